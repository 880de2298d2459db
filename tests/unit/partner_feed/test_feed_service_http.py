"""The partner-feed HTTP surface on the memory twin: auth, errors, health, OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from services.partner_feed.state import IMPORTS
from shared import MemoryTransport
from tests.unit.partner_feed.harness import FeedService, start_feed_service

MAPPING = {"community": "EAC", "columns": [{"source": "id", "field": "record_id"}]}


@pytest.fixture
async def service(tmp_path: Path, unique: str) -> AsyncIterator[FeedService]:
    svc = await start_feed_service(
        tmp_path,
        MemoryTransport(),
        f"u{unique}",
        partners=({"id": "unctad"}, {"id": "eac", "format": "regional-csv", "mapping": MAPPING}),
    )
    try:
        yield svc
    finally:
        await svc.close()


async def _post(
    service: FeedService, params: dict[str, str], headers: dict[str, str]
) -> tuple[int, dict[str, object]]:
    async with service.http.post(
        service.url("/v1/imports"), params=params, data=b"<x/>", headers=headers
    ) as resp:
        assert resp.content_type in {"application/problem+json", "application/json"}
        return resp.status, orjson.loads(await resp.read())


async def test_uploads_need_the_partners_key(service: FeedService) -> None:
    status, problem = await _post(service, {"partner": "unctad"}, {})
    assert (status, problem["code"]) == (401, "unauthenticated")
    status, _ = await _post(service, {"partner": "unctad"}, service.auth("eac"))
    assert status == 401
    # a valid key naming a partner that is not configured: 404, not an auth failure
    status, problem = await _post(service, {"partner": "nobody"}, service.auth("eac"))
    assert (status, problem["code"]) == (404, "partner_not_found")
    status, _ = await _post(service, {"partner": "nobody"}, {"Authorization": "Bearer wrong"})
    assert status == 401
    status, problem = await _post(service, {}, service.auth("eac"))
    assert (status, problem["code"]) == (400, "invalid_query")
    status, problem = await _post(
        service, {"partner": "unctad", "format": "pdf"}, service.auth("unctad")
    )
    assert status == 400 and problem["errors"] == [
        {"pointer": "/query/format", "message": problem["detail"], "code": "invalid"}
    ]
    status, problem = await _post(
        service, {"partner": "unctad", "format": "regional-csv"}, service.auth("unctad")
    )
    assert (status, problem["code"]) == (422, "no_regional_mapping")


async def test_reports_belong_to_their_partner(service: FeedService) -> None:
    status, started = await service.upload("eac", b"id\nEAC-1\n", fmt="regional-csv", wait=False)
    assert status == 202
    location = f"/v1/imports/{started['id']}"
    assert started["report"] == location
    assert (await service.get_json(location, "unctad"))[0] == 404
    assert (await service.get_json("/v1/imports/nope", "eac"))[0] == 404
    await service.server.app[IMPORTS].wait(started["id"])
    status, report = await service.get_json(location, "eac")
    assert status == 200 and report["status"] == "completed"


async def test_health_metrics_and_openapi(service: FeedService) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        async with service.http.get(service.url(path)) as resp:
            assert resp.status == 200, path
            if path == "/openapi.json":
                doc = await resp.json()
                assert doc["openapi"] == "3.1.0"
                assert {
                    "/v1/imports",
                    "/v1/feeds/iati.xml",
                    "/v1/partners/{partner_id}/discrepancies",
                } <= set(doc["paths"])
