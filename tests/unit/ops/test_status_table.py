"""`ta-bridge status`: the services' documents fetched over HTTP and drawn as one table."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.cli import main
from services.ops.status_client import ServiceReport, fetch_statuses
from services.ops.status_table import all_well, render_status


def _document(service: str, **overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "service": service,
        "status": "ok",
        "checked_at": "2026-12-01T19:00:00+00:00",
        "checks": {"database": True, "kafka": True},
        "kafka": {
            "reachable": True,
            "error": None,
            "consumer_groups": [
                {
                    "group": service,
                    "topics": ["tabridge.activity.events"],
                    "lag": 0,
                    "partitions": [
                        {
                            "topic": "tabridge.activity.events",
                            "partition": 0,
                            "committed": 5,
                            "end": 5,
                            "lag": 0,
                        }
                    ],
                }
            ],
            "dlq": [{"topic": "tabridge.activity.events.dlq", "depth": 0, "exists": True}],
        },
        "details": {},
        "warnings": [],
    }
    document.update(overrides)
    return document


REGISTRY = _document(
    "registry",
    details={
        "outbox": {
            "backlog": 2,
            "oldest_unpublished_at": "2026-12-01T18:59:58.000000Z",
            "oldest_unpublished_age_seconds": 2.0,
        }
    },
)
FEED = _document(
    "partner-feed",
    details={
        "partners": [
            {
                "partner": "unctad",
                "configured": True,
                "last_import": {
                    "report_id": "imp-1",
                    "status": "completed",
                    "received_at": "2026-12-01T18:00:00Z",
                    "finished_at": "2026-12-01T18:00:01Z",
                    "counts": {"new": 10, "quarantined": 2},
                },
                "last_pull": None,
            },
            {"partner": "eac", "configured": True, "last_import": None, "last_pull": None},
        ]
    },
)
NOTIFIER = _document(
    "notifier",
    details={
        "subscriptions": [
            {
                "subscription": "sub_1",
                "partner": "who",
                "status": "active",
                "delivered": 40,
                "failed": 1,
                "pending": 0,
                "last_attempt": {
                    "at": "2026-12-01T18:59:00+00:00",
                    "outcome": "retry",
                    "status_code": 500,
                },
            }
        ]
    },
    warnings=["subscription sub_1: 1 failed deliveries"],
)
NOTIFIER["kafka"]["consumer_groups"][0]["partitions"][0].update(committed=2, lag=3)
NOTIFIER["kafka"]["consumer_groups"][0]["lag"] = 3


def test_the_table_has_one_row_per_service_and_the_sections_that_matter() -> None:
    reports = [
        ServiceReport("registry", "http://r/v1/status", REGISTRY),
        ServiceReport("partner-feed", "http://p/v1/status", FEED),
        ServiceReport("notifier", "http://n/v1/status", NOTIFIER),
        ServiceReport("sdg-tagger", "http://t/v1/status", error="no answer within 10s"),
    ]

    text = render_status(reports)

    lines = text.splitlines()
    assert lines[0].split() == ["SERVICE", "STATE", "LAG", "DLQ", "SUMMARY"]
    rows = {line.split()[0]: line for line in lines[1:5]}
    assert rows["registry"].split()[1:4] == ["ok", "0", "0"]
    assert "outbox: 2 unpublished, oldest 2s" in rows["registry"]
    assert "2 partners, last import 2026-12-01T18:00:00Z" in rows["partner-feed"]
    assert rows["notifier"].split()[1:4] == ["ok", "3", "0"]
    assert "1 subscription: 40 delivered, 1 failed, 0 pending" in rows["notifier"]
    assert rows["sdg-tagger"].split()[1:4] == ["down", "-", "-"]
    assert "no answer within 10s" in rows["sdg-tagger"]
    assert "lagging partitions:" in lines
    assert any("tabridge.activity.events[0]" in ln and "lag 3" in ln for ln in lines)
    assert any(ln.split()[:2] == ["unctad", "completed"] and "new 10" in ln for ln in lines)
    assert any(ln.split()[:2] == ["eac", "no"] for ln in lines)
    assert any("sub_1" in ln and "last retry (HTTP 500)" in ln for ln in lines)
    assert "  notifier: subscription sub_1: 1 failed deliveries" in lines
    assert lines[-1] == "down: sdg-tagger; warnings: notifier"
    assert not all_well(reports)


def test_all_well_only_when_every_service_is_up_ok_and_quiet() -> None:
    quiet = [ServiceReport(n, "u", _document(n)) for n in ("registry", "sdg-tagger")]
    assert all_well(quiet)
    assert render_status(quiet).splitlines()[-1] == "all 2 services ok"
    degraded = _document("registry", status="degraded", checks={"kafka": False})
    degraded["kafka"] = {"reachable": False, "error": "KafkaConnectionError", "dlq": []}
    reports = [ServiceReport("registry", "u", degraded)]
    assert not all_well(reports)
    text = render_status(reports)
    assert "failing: kafka" in text
    assert "kafka unreadable (KafkaConnectionError)" in text
    assert text.splitlines()[-1] == "degraded: registry"


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
async def registry_server() -> AsyncIterator[TestServer]:
    async def status(request: web.Request) -> web.Response:
        return web.json_response(REGISTRY)

    async def missing(request: web.Request) -> web.Response:
        return web.json_response({"title": "Not found"}, status=404)

    app = web.Application()
    app.router.add_get("/v1/status", status)
    app.router.add_get("/feed/v1/status", missing)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


async def test_a_service_that_is_down_is_reported_not_raised(
    registry_server: TestServer,
) -> None:
    base = str(registry_server.make_url(""))
    down = f"http://127.0.0.1:{_unused_port()}"

    reports = await fetch_statuses(
        {"registry": base, "partner-feed": f"{base}/feed", "notifier": down}, seconds=5
    )

    assert [r.state for r in reports] == ["ok", "down", "down"]
    assert reports[0].document == REGISTRY
    assert reports[1].error is not None and "HTTP 404" in reports[1].error
    assert reports[2].error


async def test_the_command_prints_json_and_its_exit_code_says_whether_all_is_well(
    registry_server: TestServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import asyncio

    base = str(registry_server.make_url(""))
    down = f"http://127.0.0.1:{_unused_port()}"
    for name in ("PARTNER_FEED", "NOTIFIER", "SDG_TAGGER"):
        monkeypatch.setenv(f"TABRIDGE_{name}_URL", base)
    # The command runs its own event loop: give it a thread of its own.
    code = await asyncio.to_thread(main, ["status", "--registry", base, "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["well"] is True
    assert [s["service"] for s in document["services"]] == [
        "registry",
        "partner-feed",
        "notifier",
        "sdg-tagger",
    ]
    code = await asyncio.to_thread(main, ["status", "--sdg-tagger", down])
    text = capsys.readouterr().out
    assert code == 1
    assert "sdg-tagger    down" in text
