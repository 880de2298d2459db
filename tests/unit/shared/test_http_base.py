"""The HTTP base on a real server on loopback: health, readiness, metrics, problems, limits."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry, Counter

from shared import READINESS, Fault, InvalidInput, NotFound, configure_logging, create_base_app

STATE = web.AppKey("state", dict[str, bool])


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    registry = CollectorRegistry()
    Counter("demo_total", "demo", registry=registry).inc()
    app = create_base_app(
        service="demo",
        logger=configure_logging("demo", "CRITICAL", stream=io.StringIO()),
        registry=registry,
        max_body_bytes=1000,
    )
    state = {"kafka": True}

    async def kafka_ready() -> bool:
        return state["kafka"]

    async def invalid(request: web.Request) -> web.Response:
        raise InvalidInput("bad title", [Fault("/title/en", "must not be empty")])

    async def missing(request: web.Request) -> web.Response:
        raise NotFound("activity TA-2026-000001 does not exist")

    async def crash(request: web.Request) -> web.Response:
        raise RuntimeError("secret internals")

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    app[READINESS]["kafka"] = kafka_ready
    app.router.add_get("/invalid", invalid)
    app.router.add_get("/missing", missing)
    app.router.add_get("/crash", crash)
    app.router.add_post("/echo", echo)
    app[STATE] = state
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    try:
        yield srv
    finally:
        await srv.close()


async def test_health_readiness_and_metrics(server: TestServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(server.make_url("/healthz")) as resp:
            assert resp.status == 200
        async with http.get(server.make_url("/readyz")) as resp:
            assert resp.status == 200
            assert (await resp.json())["checks"] == {"kafka": True}
        server.app[STATE]["kafka"] = False
        async with http.get(server.make_url("/readyz")) as resp:
            assert resp.status == 503
            assert (await resp.json())["status"] == "not_ready"
        async with http.get(server.make_url("/metrics")) as resp:
            assert "demo_total 1.0" in await resp.text()


async def test_errors_are_problem_documents(server: TestServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(server.make_url("/invalid")) as resp:
            assert resp.status == 422
            assert resp.content_type == "application/problem+json"
            body = await resp.json(content_type=None)
            assert body["errors"] == [
                {"pointer": "/title/en", "message": "must not be empty", "code": "invalid"}
            ]
            assert body["type"] == "https://ta-bridge.wipo.int/problems/validation_failed"
            assert body["instance"] == "/invalid"
        async with http.get(server.make_url("/missing")) as resp:
            assert resp.status == 404
            assert "TA-2026-000001" in (await resp.json(content_type=None))["detail"]
        async with http.get(server.make_url("/nowhere")) as resp:
            assert resp.status == 404
            assert resp.content_type == "application/problem+json"
            assert "/nowhere" in (await resp.json(content_type=None))["detail"]
        async with http.get(server.make_url("/crash")) as resp:
            assert resp.status == 500
            assert "secret" not in await resp.text()


async def test_oversized_bodies_get_413_before_being_read(server: TestServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(server.make_url("/echo"), data=b"x" * 500) as resp:
            assert resp.status == 200
        async with http.post(server.make_url("/echo"), data=b"x" * 5000) as resp:
            assert resp.status == 413
            assert (await resp.json(content_type=None))["code"] == "payload_too_large"

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(10):
                yield b"y" * 500

        async with http.post(server.make_url("/echo"), data=chunks()) as resp:
            assert resp.status == 413, "a chunked body is cut off at the limit too"
