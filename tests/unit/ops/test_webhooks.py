"""`ta-bridge webhooks redrive`: the notifier's redrive endpoint, called with a partner key."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.cli import main
from services.ops.webhooks import RedriveRefused, redrive_webhooks

KEY = "key-partner-a"


@pytest.fixture
async def notifier() -> AsyncIterator[tuple[TestServer, list[dict[str, Any]]]]:
    """A stand-in for the notifier's `POST /v1/subscriptions/{id}/redrive`."""
    calls: list[dict[str, Any]] = []

    async def redrive(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {KEY}":
            return web.json_response(
                {"title": "Authentication required", "detail": "unknown key", "status": 401},
                status=401,
                content_type="application/problem+json",
            )
        calls.append({"id": request.match_info["id"], "body": await request.json()})
        return web.json_response({"redriven": 2, "webhook_ids": ["w1", "w2"]}, status=202)

    app = web.Application()
    app.router.add_post("/v1/subscriptions/{id}/redrive", redrive)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server, calls
    finally:
        await server.close()


async def test_redrive_sends_the_key_and_since_and_reads_the_answer(
    notifier: tuple[TestServer, list[dict[str, Any]]],
) -> None:
    server, calls = notifier
    base = str(server.make_url(""))
    since = datetime(2026, 12, 1, 18, tzinfo=UTC)

    result = await redrive_webhooks(base, "sub_1", api_key=KEY, since=since)

    assert result.as_json() == {"subscription": "sub_1", "redriven": 2, "webhook_ids": ["w1", "w2"]}
    assert calls == [{"id": "sub_1", "body": {"since": "2026-12-01T18:00:00+00:00"}}]
    with pytest.raises(RedriveRefused, match="HTTP 401: Authentication required: unknown key"):
        await redrive_webhooks(base, "sub_1", api_key="wrong")


async def test_the_command_needs_a_key_and_reports_a_refusal(
    notifier: tuple[TestServer, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, calls = notifier
    monkeypatch.setenv("TABRIDGE_NOTIFIER_URL", str(server.make_url("")))
    monkeypatch.delenv("TABRIDGE_NOTIFIER_API_KEY", raising=False)

    assert await asyncio.to_thread(main, ["webhooks", "redrive", "sub_1"]) == 2
    assert "give --key" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["webhooks", "redrive", "sub_1", "--key", "x"]) == 1
    assert "HTTP 401" in capsys.readouterr().err
    monkeypatch.setenv("TABRIDGE_NOTIFIER_API_KEY", KEY)
    assert await asyncio.to_thread(main, ["webhooks", "redrive", "sub_1", "--since", "2h"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "queued 2 delivery(ies) of sub_1 again",
        "  w1",
        "  w2",
    ]
    assert calls[-1]["body"]["since"]
