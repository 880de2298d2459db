"""The launcher's parts on their own: fast, no broker (the journey test uses them whole)."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from standardwebhooks import Webhook

from services.devstack import (
    SERVICES,
    Stack,
    StackConfig,
    StackError,
    WebhookReceiver,
    build_env,
    verify_signature,
)
from services.devstack.process import ChildProcess
from services.notifier.signing import generate_secret, webhook_headers
from tests.support.waiting import eventually

BODY = b'{"type": "org.wipo.tabridge.activity.registered.v1", "subject": "TA-2026-000001"}'


def _signed(secret: str, *, at: int, body: bytes = BODY) -> dict[str, str]:
    return webhook_headers([secret], msg_id="msg_1", timestamp=at, body=body)


def test_signatures_verify_as_standardwebhooks_verifies_them() -> None:
    secret, now = generate_secret(), int(time.time())
    headers = _signed(secret, at=now)
    Webhook(secret).verify(BODY, headers)  # the reference implementation agrees
    assert verify_signature([secret], headers, BODY, now=now)
    assert verify_signature([generate_secret(), secret], headers, BODY, now=now)


def test_a_tampered_body_a_stale_timestamp_or_another_secret_fail() -> None:
    secret, now = generate_secret(), int(time.time())
    assert not verify_signature([secret], _signed(secret, at=now), BODY + b" ", now=now)
    assert not verify_signature([secret], _signed(secret, at=now - 301), BODY, now=now)
    assert not verify_signature([generate_secret()], _signed(secret, at=now), BODY, now=now)
    assert not verify_signature([secret], {"webhook-id": "x"}, BODY, now=now)


def _config(tmp_path: Path, **changes: object) -> StackConfig:
    fields: dict[str, object] = {
        "root": tmp_path,
        "state_dir": tmp_path / "state",
        "bootstrap_servers": "127.0.0.1:1",
        "base_env": {"PATH": "/bin", "FEED_PARTNERS": "partners.json", "REGISTRY_PORT": "1"},
    }
    fields.update(changes)
    return StackConfig(**fields)  # type: ignore[arg-type]


def test_the_environment_sets_what_the_launcher_owns_and_passes_the_rest(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        namespace="ns1",
        trace_dir=tmp_path / "traces",
        ports={"registry": 9181},
        overrides={"registry": {"REGISTRY_RELAY_POLL_SECONDS": "0.2"}},
    )
    registry, feed = SERVICES[0], SERVICES[2]
    env = build_env(config, registry)
    assert env["REGISTRY_PORT"] == "9181"
    assert env["REGISTRY_SQLITE_PATH"] == str(tmp_path / "state" / "registry.db")
    assert env["REGISTRY_CONSUMER_GROUP"] == "ns1.registry"
    assert env["REGISTRY_RELAY_POLL_SECONDS"] == "0.2"
    assert env["TABRIDGE_TOPIC_NAMESPACE"] == "ns1"
    assert env["TABRIDGE_TRACE_DIR"] == str(tmp_path / "traces")
    assert env["FEED_PARTNERS"] == "partners.json"
    assert build_env(config, feed)["FEED_PORT"] == "8082"
    assert "FEED_CONSUMER_GROUP" not in build_env(_config(tmp_path), feed)


async def test_a_port_in_use_is_refused_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        stack = Stack(_config(tmp_path, ports={"notifier": port}))
        with pytest.raises(StackError, match="NOTIFIER_PORT"):
            await stack.start()
    assert not (tmp_path / "state" / "logs").exists()


async def test_a_child_that_ignores_sigterm_is_killed_after_its_grace(tmp_path: Path) -> None:
    script = (
        "import signal\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ignoring', flush=True)\n"
        "signal.pause()  # until SIGKILL: SIGTERM is ignored\n"
    )
    child = ChildProcess(
        "stubborn",
        [sys.executable, "-c", script],
        env={},
        cwd=tmp_path,
        log_path=tmp_path / "stubborn.log",
    )
    await child.start()
    await eventually(lambda: "ignoring" in child.log_tail(), timeout=20, message="handler set")
    assert await child.stop(0.5) == -9


async def test_the_receiver_answers_by_signature_and_waits_for_its_secret() -> None:
    receiver = WebhookReceiver(secret_wait=0.2)
    await receiver.start()
    secret = generate_secret()
    try:
        async with aiohttp.ClientSession() as http:
            now = int(datetime.now(UTC).timestamp())
            async with http.post(receiver.url, data=BODY, headers=_signed(secret, at=now)) as r:
                assert r.status == 503  # no secret yet: the notifier will retry
            receiver.trust(secret)
            async with http.post(receiver.url, data=BODY, headers=_signed(secret, at=now)) as r:
                assert r.status == 204
            wrong = _signed(generate_secret(), at=now)
            async with http.post(receiver.url, data=BODY, headers=wrong) as r:
                assert r.status == 401
        got = await receiver.wait_for(lambda d: d.verified, within=1)
        assert got.event["subject"] == "TA-2026-000001"
        assert [d.verified for d in receiver.deliveries] == [True, False]
    finally:
        await receiver.stop()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(receiver.wait_for(lambda d: False, within=0.05), 1)
