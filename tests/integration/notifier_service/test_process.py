"""`python -m services.notifier` as a real process: SIGTERM mid-delivery, then a restart."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from shared import EventPublisher, KafkaTransport, Outgoing
from shared.events import ACTIVITY_EVENTS, namespaced
from tests.integration.notifier_http.conftest import Receiver
from tests.support.raw_http import raw_request
from tests.support.waiting import eventually

from .conftest import AUTH, KEY, activity, change

pytestmark = pytest.mark.kafka


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_sigterm_mid_delivery_exits_cleanly_and_the_restart_delivers(
    kafka_bootstrap: str, unique: str, tmp_path: Path
) -> None:
    arrived = asyncio.Event()
    release = asyncio.Event()
    calls = 0

    async def first_hangs(_: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        if calls == 1:
            arrived.set()
            await release.wait()
            return web.Response(status=503)
        return web.Response(status=204)

    receiver = Receiver(first_hangs)
    await receiver.start()
    port = _free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "TABRIDGE_TOPIC_NAMESPACE": f"p{unique}",
        "LOG_LEVEL": "INFO",
        "NOTIFIER_PORT": str(port),
        "NOTIFIER_DB_PATH": str(tmp_path / "notifier.db"),
        "NOTIFIER_CONSUMER_GROUP": f"notifier-{unique}",
        "NOTIFIER_ALLOWLIST": "127.0.0.1/32",
        "NOTIFIER_RETRY_DELAYS": "0,0.1,0.2,0.5,1,1,1",
        "NOTIFIER_PARTNER_KEYS": json.dumps({"pa": {"name": "Partner A", "keys": [KEY]}}),
    }
    base = f"http://127.0.0.1:{port}"

    async def start() -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.notifier",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )

    async def ready(http: aiohttp.ClientSession) -> bool:
        try:
            async with http.get(f"{base}/readyz") as response:
                body = await response.json()
                return response.status == 200 and len(body["checks"]) == 3
        except aiohttp.ClientError:
            return False

    transport = KafkaTransport(kafka_bootstrap)
    publisher = EventPublisher(transport.producer(client_id="tests"), source="/tests")
    await publisher.start()
    first = await start()
    second: asyncio.subprocess.Process | None = None
    try:
        async with aiohttp.ClientSession() as http:
            await eventually(lambda: ready(http), timeout=60, message="notifier ready")
            # `serve()` answers what aiohttp's parser refuses as a problem too.
            status, content_type, problem = await raw_request(
                "127.0.0.1", port, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            assert (status, content_type, problem["code"]) == (
                414,
                "application/problem+json",
                "uri_too_long",
            )
            async with http.post(
                f"{base}/v1/subscriptions",
                json={"url": receiver.url, "event_types": ["*"]},
                headers=AUTH,
            ) as response:
                assert response.status == 201, await response.text()
            event = change(activity(5))
            topic = namespaced(ACTIVITY_EVENTS, f"p{unique}")
            await publisher.publish_all([Outgoing(topic, event, event_id=f"evt-{unique}")])
            async with asyncio.timeout(30):
                await arrived.wait()

            first.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(first.communicate(), 40)
            assert first.returncode == 0, err.decode()[-2000:]
            log = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
            assert any(entry["event"] == "consumer stopped" for entry in log)
            release.set()

            second = await start()
            got = await receiver.wait_for(1, timeout=60)
            assert [r.event_id for r in got] == [f"evt-{unique}"]
    finally:
        release.set()
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.communicate(), 40)
        await publisher.close()
        await receiver.stop()
