"""The base app's body guards over real HTTP: undecodable, unknown coding, too slow."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry

from shared import CommonSettings, configure_logging, create_base_app, load_settings, read_json


async def _echo(request: web.Request) -> web.Response:
    return web.json_response({"got": await read_json(request)})


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    settings = load_settings(
        CommonSettings,
        {"TABRIDGE_HTTP_BODY_TIMEOUT": "0.5", "TABRIDGE_HTTP_BODY_MIN_RATE": "1000"},
    )
    app = create_base_app(
        service="t",
        logger=configure_logging("t", "CRITICAL", stream=io.StringIO()),
        registry=CollectorRegistry(),
        settings=settings,
    )
    app.router.add_post("/echo", _echo)
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    yield srv
    await srv.close()


async def _raw(server: TestServer, head: bytes, body_parts: list[bytes], pause: float) -> bytes:
    """Send `head`, then dribble the body parts `pause` seconds apart (the slow client
    under test) while reading the answer until the server closes the connection."""
    reader, writer = await asyncio.open_connection(server.host, server.port)

    async def dribble() -> None:
        writer.write(head)
        await writer.drain()
        for part in body_parts:
            await asyncio.sleep(pause)  # the fault injected: a client this slow
            writer.write(part)
            await writer.drain()

    sender = asyncio.create_task(dribble())
    try:
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        writer.close()


def _head(length: int, extra: str = "") -> bytes:
    return (
        f"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n{extra}\r\n"
    ).encode()


async def test_a_body_slower_than_the_minimum_rate_gets_408_and_the_connection_closes(
    server: TestServer,
) -> None:
    answer = await _raw(server, _head(1000), [b"["] + [b"1,"] * 20, pause=0.2)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 408 Request Timeout"
    assert b"application/problem+json" in rest
    assert b'"code":"request_timeout"' in rest


@pytest.mark.parametrize(
    ("coding", "body", "status", "code"),
    [
        ("gzip", b"garbage" * 20, 400, "undecodable_body"),
        ("deflate", b"garbage" * 20, 400, "undecodable_body"),
        ("gzip", b"\x1f\x8b\x08\x00" + b"\xff" * 40, 400, "undecodable_body"),
        ("x-gzip", b"\x1f\x8b\x08\x00" + b"\xff" * 40, 415, "unsupported_content_encoding"),
        ("compress", b"{}", 415, "unsupported_content_encoding"),
        ("gzip, gzip", b"{}", 415, "unsupported_content_encoding"),
    ],
)
async def test_a_body_that_does_not_match_its_coding_is_a_typed_4xx(
    server: TestServer, coding: str, body: bytes, status: int, code: str
) -> None:
    answer = await _raw(
        server, _head(len(body), f"Content-Encoding: {coding}\r\n") + body, [], pause=0
    )
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), answer
    assert b"application/problem+json" in head
    assert orjson.loads(payload)["code"] == code
