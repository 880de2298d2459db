"""What `make run` keeps between runs and how it stops, part by part (no broker needed).

Covers the newcomer defects the README test cannot stage on the suite's broker: the local
broker's data kept with the stores (and stores never paired with a fresh cluster), the demo
pull source answering conditional GETs, the parent watch that stops the launcher when
`make` alone is signalled, the receiver's de-duplication of redeliveries, and the CLIs
opening the stores of `make run`.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from services.devstack import WebhookReceiver
from services.devstack.demo.console import Console
from services.devstack.parent import ParentWatch, caught_signals
from services.devstack.source import DemoSource, partners_with_sources
from services.devstack.state import (
    broker_has_data,
    local_broker_env,
    set_aside_stores,
    stores,
)
from services.notifier.signing import generate_secret, webhook_headers
from shared._state_dir import store_path

ROOT = Path(__file__).resolve().parents[2]
PARTNERS = ROOT / "deploy" / "demo-data" / "partners"


def test_the_local_broker_keeps_its_data_in_the_state_directory(tmp_path: Path) -> None:
    env = local_broker_env(tmp_path, {"PATH": "/bin"})
    assert env["KAFKA_DATA_DIR"] == str(tmp_path / "kafka")
    assert env["KAFKA_KEEP_DATA"] == "1"
    assert not broker_has_data(env)  # nothing formatted yet: kafka.sh formats afresh
    meta = tmp_path / "kafka" / "data" / "meta.properties"
    meta.parent.mkdir(parents=True)
    meta.write_text("cluster.id=x\n")
    assert broker_has_data(env)  # kafka.sh restarts on it: topics and offsets survive
    mine = local_broker_env(tmp_path, {"KAFKA_DATA_DIR": "/elsewhere", "KAFKA_KEEP_DATA": "0"})
    assert (mine["KAFKA_DATA_DIR"], mine["KAFKA_KEEP_DATA"]) == ("/elsewhere", "0")
    assert not broker_has_data(mine)


def test_stores_are_set_aside_rather_than_paired_with_a_new_cluster(tmp_path: Path) -> None:
    assert set_aside_stores(tmp_path) is None  # nothing to move
    for name in ("registry.db", "registry.db-wal", "notifier.db", "sdg-tagger.db"):
        (tmp_path / name).write_text(name)
    (tmp_path / "logs").mkdir()
    aside = set_aside_stores(tmp_path)
    assert aside is not None and aside.parent == tmp_path
    assert sorted(p.name for p in aside.iterdir()) == [
        "notifier.db",
        "registry.db",
        "registry.db-wal",
        "sdg-tagger.db",
    ]
    assert stores(tmp_path) == []
    assert (tmp_path / "logs").is_dir()  # logs stay where they are


async def test_the_demo_source_is_pulled_with_conditional_gets(tmp_path: Path) -> None:
    source = DemoSource(PARTNERS)
    await source.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(source.url("tfm-export.json")) as first:
                assert first.status == 200
                assert json.loads(await first.read())
                etag = first.headers["ETag"]
            async with http.get(
                source.url("tfm-export.json"), headers={"If-None-Match": etag}
            ) as again:
                assert again.status == 304
            async with http.get(source.url("../activities.json")) as outside:
                assert outside.status in {403, 404}
    finally:
        await source.stop()
    written = partners_with_sources(
        PARTNERS / "partners.json", {"tfm": source.url("tfm-export.json")}, tmp_path / "p.json"
    )
    configured = {p["id"]: p.get("url") for p in json.loads(written.read_text())}
    assert configured == {"unops": None, "tfm": source.url("tfm-export.json"), "eac": None}


PARENT = """
import signal, subprocess, sys
signal.signal(signal.SIGINT, lambda *_: None)  # caught: it shows in SigCgt
child = subprocess.Popen([sys.executable, "-c", "import signal; signal.pause()"])
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # taken below, not by the handler
print(child.pid, flush=True)
if signal.sigtimedwait({signal.SIGINT}, 30) is None:
    sys.exit("no SIGINT within 30 s")
signal.signal(signal.SIGINT, signal.SIG_DFL)  # as make does before it waits for its children
print("handling", flush=True)
child.wait()
"""


def test_a_parent_handling_a_fatal_signal_is_seen_in_its_dispositions() -> None:
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc")
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = 0
    try:
        child = int(parent.stdout.readline())
        assert int(signal.SIGINT) in (caught_signals(parent.pid) or set())
        parent.send_signal(signal.SIGINT)
        assert parent.stdout.readline().strip() == "handling"
        now = caught_signals(parent.pid)
        assert now is not None and int(signal.SIGINT) not in now
    finally:
        if child:
            subprocess.run(["kill", str(child)], check=False)
        status = parent.wait(timeout=30)
        parent.stdout.close()
    assert status == 0
    assert caught_signals(parent.pid) is None  # gone


async def test_a_redelivery_is_marked_and_recognised_as_already_handled() -> None:
    lines: list[str] = []

    class Collect:
        def write(self, text: str) -> int:
            lines.append(text)
            return len(text)

        def flush(self) -> None:
            pass

    console = Console(Collect())  # type: ignore[arg-type]
    receiver = WebhookReceiver(on_delivery=console.delivery)
    await receiver.start()
    secret = generate_secret()
    receiver.trust(secret)
    body = b'{"type": "org.wipo.tabridge.activity.updated.v1", "subject": "TA-2026-000001"}'
    try:
        async with aiohttp.ClientSession() as http:
            for extra in ({}, {"webhook-redelivery": "1"}):
                headers = webhook_headers(
                    [secret], msg_id="evt-1", timestamp=int(time.time()), body=body
                )
                async with http.post(receiver.url, data=body, headers={**headers, **extra}) as r:
                    assert r.status == 204
    finally:
        await receiver.stop()
    first, again = receiver.deliveries
    assert (first.duplicate, first.redelivery) == (False, 0)
    assert (again.duplicate, again.redelivery) == (True, 1)
    printed = "".join(lines)
    assert "webhook verified: activity.updated.v1" in printed
    assert "webhook verified (redelivery 1), already handled: ignored" in printed


def test_the_clis_open_the_stores_make_run_keeps() -> None:
    assert store_path("registry.db", variable="REGISTRY_SQLITE_PATH", var=None, env={}) == (
        "var/run/registry.db"
    )
    env = {"TABRIDGE_RUN_DIR": "/tmp/run"}
    assert store_path("sdg-tagger.db", variable="TAGGER_DB_PATH", var=None, env=env) == (
        "/tmp/run/sdg-tagger.db"
    )
    env["TAGGER_DB_PATH"] = "/data/t.db"
    assert store_path("sdg-tagger.db", variable="TAGGER_DB_PATH", var=None, env=env) == (
        "/data/t.db"
    )
    assert store_path("sdg-tagger.db", variable="TAGGER_DB_PATH", var="/x", env=env) == (
        "/x/sdg-tagger.db"
    )


async def test_the_registry_cli_says_which_store_it_opened(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.registry.cli",
        "--var",
        str(tmp_path),
        "keys",
        "list",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    assert process.returncode == 0, err
    assert f"# store: {tmp_path / 'registry.db'}" in err.decode()
    assert (tmp_path / "registry.db").exists()


async def test_the_parent_watch_ends_when_stopping_is_set_by_a_signal() -> None:
    stopping = asyncio.Event()
    watch = ParentWatch(stopping, interval=0.05)
    assert watch.reason() is None  # our parent (the test runner's) is alive and well
    task = asyncio.create_task(watch.run())
    await asyncio.sleep(0)
    stopping.set()  # what the launcher's SIGINT/SIGTERM/SIGHUP handler does
    assert await asyncio.wait_for(task, 5) is None  # it returns, it does not spin on
