"""Every log line is one JSON object: structlog's own and the standard library's (aiokafka,
aiohttp, asyncio log through it); a client leaving early is an info line, not an error."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from shared import configure_logging, create_base_app


def _records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_stdlib_loggers_write_json_lines_with_the_service() -> None:
    stream = io.StringIO()
    log = configure_logging("notifier", "INFO", stream=stream)
    log.info("own line", n=1)
    logging.getLogger("aiokafka.consumer.group_coordinator").error(
        "Group Coordinator Request failed: [Error 15] GroupCoordinatorNotAvailableError"
    )
    logging.getLogger("aiokafka").info("chatty detail")  # aiokafka INFO is left out
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("asyncio").exception("Task exception was never retrieved")
    own, coordinator, crashed = _records(stream)
    assert (own["event"], own["service"], own["level"]) == ("own line", "notifier", "info")
    assert coordinator["logger"] == "aiokafka.consumer.group_coordinator"
    assert (coordinator["service"], coordinator["level"]) == ("notifier", "error")
    assert "GroupCoordinatorNotAvailableError" in str(coordinator["event"])
    assert crashed["logger"] == "asyncio" and "ValueError: boom" in str(crashed["exception"])
    assert all("timestamp" in r for r in (own, coordinator, crashed))


def test_configuring_again_replaces_the_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("registry", stream=first)
    configure_logging("registry", stream=second)
    logging.getLogger("aiohttp.server").warning("once")
    assert first.getvalue() == ""
    assert [r["event"] for r in _records(second)] == ["once"]


@pytest.fixture
async def streaming() -> AsyncIterator[tuple[str, io.StringIO, asyncio.Event]]:
    stream = io.StringIO()
    logger = configure_logging("partner-feed", stream=stream)
    finished = asyncio.Event()

    async def feed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        try:
            for _ in range(10_000):
                await response.write(b"<iati-activity>" + b"x" * 4096 + b"</iati-activity>\n")
                await asyncio.sleep(0)
        finally:
            finished.set()
        return response

    app = create_base_app(service="partner-feed", logger=logger, registry=CollectorRegistry())
    app.router.add_get("/feed", feed)
    # Served as `shared.serve` serves it (web.run_app: handlers are not cancelled when the
    # client goes; aiohttp's TestServer would cancel them instead).
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/feed", stream, finished
    finally:
        await runner.cleanup()


async def test_a_client_that_stops_reading_is_an_info_line(
    streaming: tuple[str, io.StringIO, asyncio.Event],
) -> None:
    url, stream, finished = streaming
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        await response.content.read(100)  # like `curl ... | head`: read a little, then leave
    await asyncio.wait_for(finished.wait(), 30)
    records = _records(stream)
    assert not [r for r in records if r["level"] in {"error", "critical"}], records
    assert [r for r in records if r["event"] == "client disconnected" and r["level"] == "info"]
