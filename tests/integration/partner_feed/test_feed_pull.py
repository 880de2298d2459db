"""Scheduled pull with a conditional GET against a local partner server."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.partner_feed.state import PULLER
from shared import Transport
from tests.integration.partner_feed.conftest import EXAMPLE_203
from tests.unit.partner_feed.harness import start_feed_service

pytestmark = pytest.mark.timeout(120)


async def test_second_pull_gets_304_and_emits_nothing(
    tmp_path: Path, transport: Transport, unique: str
) -> None:
    body = EXAMPLE_203.read_bytes()
    seen: list[tuple[str | None, int]] = []

    async def export(request: web.Request) -> web.Response:
        etag = '"v1"'
        status = 304 if request.headers.get("If-None-Match") == etag else 200
        seen.append((request.headers.get("If-None-Match"), status))
        if status == 304:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, headers={"ETag": etag}, content_type="application/xml")

    partner_app = web.Application()
    partner_app.router.add_get("/export.xml", export)
    partner = TestServer(partner_app, host="127.0.0.1")
    await partner.start_server()
    url = str(partner.make_url("/export.xml"))
    svc = await start_feed_service(
        tmp_path,
        transport,
        f"pull{unique}",
        partners=({"id": "unops", "url": url, "interval_seconds": 3600},),
        pull_enabled=False,
    )
    try:
        puller = svc.server.app[PULLER]
        source = svc.settings.partners[0]
        first = await puller.pull(source)
        assert first.outcome == "imported" and first.import_id
        status, report = await svc.get_json(f"/v1/imports/{first.import_id}", "unops")
        assert status == 200 and report["channel"] == "pull" and report["counts"]["new"] == 1

        second = await puller.pull(source)
        assert second.outcome == "not_modified" and second.import_id is None
        assert seen == [(None, 200), ('"v1"', 304)]
        assert len(await svc.events(svc.records_topic, 1)) == 1

        async with svc.http.post(
            svc.url("/v1/partners/unops/pull"), headers=svc.auth("unops")
        ) as resp:
            assert (await resp.json())["outcome"] == "not_modified"
    finally:
        await svc.close()
        await partner.close()
