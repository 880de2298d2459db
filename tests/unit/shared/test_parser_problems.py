"""Requests aiohttp's parser refuses before any middleware are answered as problems, over
real HTTP on loopback (the runner `serve()` uses)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from shared._parser_errors import ProblemAppRunner
from shared._problems import PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE
from tests.support.raw_http import raw_request


@pytest.fixture
async def port() -> AsyncIterator[int]:
    async def ok(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/things", ok)
    runner = ProblemAppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    sockets = getattr(server, "sockets", None)
    assert sockets
    yield int(sockets[0].getsockname()[1])
    await runner.cleanup()


CASES = [
    pytest.param(
        b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        (414,),
        ("uri_too_long",),
        "the request line is too long (the limit is 8190 bytes)",
        id="over-long URL",
    ),
    pytest.param(
        b"GET /things HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",
        (431,),
        ("header_too_large",),
        "a header is too long (the limit is 8190 bytes)",
        id="over-long header",
    ),
    pytest.param(
        b"NOT HTTP AT ALL\r\n\r\n",
        (400,),
        ("malformed_request_line",),
        "",
        id="bad request line",
    ),
    pytest.param(
        b"G(T /things HTTP/1.1\r\nHost: x\r\n\r\n",
        (400,),
        ("malformed_request_line",),
        "HTTP method",
        id="bad method",
    ),
    pytest.param(
        b"GET /things HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n",
        (400,),
        ("malformed_request",),
        "Invalid header token",
        id="bad header name",
    ),
    pytest.param(
        b"POST /things HTTP/1.1\r\nHost: x\r\nContent-Encoding: br\r\nContent-Length: 3\r\n\r\nabc",
        (415,),
        ("unsupported_content_encoding",),
        "not 'br'",
        id="br",
    ),
    pytest.param(
        b"POST /things HTTP/1.1\r\nHost: x\r\nContent-Encoding: zstd\r\n"
        b"Content-Length: 3\r\n\r\nabc",
        (415,),
        ("unsupported_content_encoding",),
        "not 'zstd'",
        id="zstd",
    ),
]


@pytest.mark.parametrize(("head", "statuses", "codes", "detail"), CASES)
async def test_parser_refusals_are_typed_problems(
    port: int, head: bytes, statuses: tuple[int, ...], codes: tuple[str, ...], detail: str
) -> None:
    status, content_type, body = await raw_request("127.0.0.1", port, head)
    assert content_type.startswith(PROBLEM_CONTENT_TYPE), body
    assert status in statuses, body
    assert body["status"] == status
    assert body["code"] in codes
    assert body["type"] == PROBLEM_TYPE_BASE + body["code"]
    assert detail in body["detail"]
    assert body["instance"].startswith("/")


async def test_a_well_formed_request_still_reaches_the_app(port: int) -> None:
    status, content_type, body = await raw_request(
        "127.0.0.1", port, b"GET /things HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert (status, content_type.split(";")[0], body) == (200, "application/json", {"ok": True})
