"""Duplicate JSON keys: found in document order with their pointer, and refused over real
HTTP with a typed 400 naming the key."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry

from shared import CommonSettings, configure_logging, create_base_app, load_settings, read_json
from shared._duplicate_keys import first_duplicate_key


@pytest.mark.parametrize(
    ("body", "found"),
    [
        (b'{"a": 1, "b": 2}', None),
        (b'[{"a": 1}, {"a": 2}]', None),
        (b'{"a": {"x": 1}, "b": {"x": 2}}', None),
        (b'{"a": 1, "a": 2}', ("", "a")),
        (b'{"a": {"b": [0, {"c": 1, "c": 1}]}}', ("/a/b/1", "c")),
        (b'{"x/y": {"~": 1, "~": 2}}', ("/x~1y", "~")),
        # outermost first, though the inner object is built first
        (b'{"a": {"k": 1, "k": 2}, "z": 1, "z": 2}', ("", "z")),
        (b'[{"k": 1}, {"a": {"k": 1, "k": 2}}, {"z": 1, "z": 2}]', ("/1/a", "k")),
        (b'{"a": 1, "b": {"k": 1, "k": 2}, "a": 2}', ("", "a")),
        (b'"plain"', None),
    ],
)
def test_first_duplicate_key(body: bytes, found: tuple[str, str] | None) -> None:
    assert first_duplicate_key(body) == found


async def _echo(request: web.Request) -> web.Response:
    return web.json_response({"got": await read_json(request)})


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    app = create_base_app(
        service="t",
        logger=configure_logging("t", "CRITICAL", stream=io.StringIO()),
        registry=CollectorRegistry(),
        settings=load_settings(CommonSettings, {}),
    )
    app.router.add_post("/echo", _echo)
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    yield srv
    await srv.close()


async def test_a_body_with_a_duplicate_key_is_a_typed_400(server: TestServer) -> None:
    body = b'{"title": {"en": "a"}, "items": [{"category": "x", "category": "y"}]}'
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            server.make_url("/echo"), data=body, headers={"Content-Type": "application/json"}
        ) as resp,
    ):
        problem = await resp.json(content_type="application/problem+json")
    assert resp.status == 400
    assert problem["code"] == "duplicate_json_key"
    assert problem["detail"] == (
        "'category' appears more than once in the object at /items/0; send each key once"
    )
    assert problem["errors"] == [
        {
            "pointer": "/items/0/category",
            "message": "duplicate key 'category'",
            "code": "duplicate_key",
        }
    ]
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            server.make_url("/echo"),
            data=b'{"a": [{"b": 1}, {"b": 2}]}',
            headers={"Content-Type": "application/json"},
        ) as resp,
    ):
        assert resp.status == 200
        assert await resp.json() == {"got": {"a": [{"b": 1}, {"b": 2}]}}
