"""The outbox survives a relay crash and a broker outage: nothing lost, no duplicate effect.

Three angles on one promise ("every committed change is published, under one stable id,
in order per activity"):

- the relay cancelled after the broker acknowledged a batch and before the rows were
  marked published (the one window where a crash must cause a re-send): the re-sent
  copies carry the same ids, so a de-duplicating consumer acts once;
- a real registry process killed with SIGKILL in the middle of a backlog, more changes
  committed while no relay runs, then a new process on the same store;
- a broker of the test's own stopped while the registry keeps accepting changes, then
  restarted on its old data: the same relay catches up by itself.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from prometheus_client import CollectorRegistry

from services.registry.relay import OutboxRelay, RelayMetrics
from shared import EventPublisher, KafkaTransport, Outgoing, configure_logging
from shared.db import Database, SqliteDatabase
from shared.events import (
    ACTIVITY_EVENTS,
    ACTIVITY_SNAPSHOTS,
    build_catalog,
    namespaced,
    topic_specs,
)
from tests.integration.registry.processes import DedicatedBroker, RegistryProcess
from tests.integration.registry.published import (
    Change,
    assert_exactly_once,
    committed_changes,
    covers,
    distinct,
    outbox_state,
    read_until,
    stored,
)
from tests.support.activities import activity_doc
from tests.support.waiting import eventually
from tests.unit.registry.databases import DIALECTS, open_store
from tests.unit.registry.store import SteppingClock, Store

pytestmark = pytest.mark.kafka


async def ensure_activity_topics(transport: KafkaTransport, namespace: str) -> None:
    names = {namespaced(ACTIVITY_EVENTS, namespace), namespaced(ACTIVITY_SNAPSHOTS, namespace)}
    await transport.ensure_topics([s for s in topic_specs(namespace=namespace) if s.name in names])


class CrashAfterAck(EventPublisher):
    """Publishes a batch, waits for every acknowledgement, then never returns: the relay is
    stopped dead after the broker has the events and before the rows are marked."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acked = asyncio.Event()

    async def publish_all(self, items: Sequence[Outgoing]) -> list[Any]:
        await super().publish_all(items)
        self.acked.set()
        await asyncio.get_running_loop().create_future()  # the test cancels the relay here
        raise AssertionError("unreachable")


def relay_on(store: Store, publisher: EventPublisher, namespace: str) -> OutboxRelay:
    return OutboxRelay(
        db=store.db,
        outbox=store.outbox,
        publisher=publisher,
        catalog=build_catalog(),
        logger=configure_logging("relay-test", "WARNING", stream=io.StringIO()),
        metrics=RelayMetrics(CollectorRegistry()),
        namespace=namespace,
        batch_size=6,
        poll_interval=0.05,
    )


@pytest.fixture(params=DIALECTS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with open_store(request.param, tmp_path) as db:
        yield db


async def test_a_relay_stopped_between_ack_and_mark_resends_the_same_ids(
    database: Database, kafka_bootstrap: str, unique: str
) -> None:
    namespace = f"t{unique}"
    transport = KafkaTransport(kafka_bootstrap)
    await ensure_activity_topics(transport, namespace)
    store = Store(database, clock=SteppingClock(datetime.now(UTC)))
    created = [await store.create(title={"en": f"Activity {n}"}) for n in range(8)]
    for activity in created[:4]:
        for version, marker in ((1, 0), (2, 2)):
            await store.commands.patch(
                activity.id, {"gender_marker": marker}, expected_version=version, actor="e"
            )
    committed, _, _ = await stored(database)
    assert len(committed) == 16

    crashing = CrashAfterAck(transport.producer(client_id="relay-1"), source="/test")
    await crashing.start()
    task = asyncio.create_task(relay_on(store, crashing, namespace).run())
    await asyncio.wait_for(crashing.acked.wait(), 30)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await crashing.close()
    assert len(await store.outbox.pending(100)) == 16, "the acked batch was not marked"

    publisher = EventPublisher(transport.producer(client_id="relay-2"), source="/test")
    await publisher.start()
    second = relay_on(store, publisher, namespace)
    task = asyncio.create_task(second.run())

    async def drained() -> bool:
        return (await store.outbox.backlog())[0] == 0

    try:
        await eventually(drained, timeout=30, message="the second relay drained the outbox")
    finally:
        second.stop()
        await asyncio.wait_for(task, 30)
        await publisher.close()

    seen = await read_until(
        transport,
        namespaced(ACTIVITY_EVENTS, namespace),
        lambda s: covers(committed)(s) and len(s) >= len(committed) + 6,
        what="every change and the re-sent first batch",
    )
    assert len(seen) == len(committed) + 6, "exactly the unmarked batch was sent twice"
    assert_exactly_once(seen, committed)
    _, ids, published = await stored(database)
    assert published == 16
    assert {s.event_id for s in distinct(seen)} == ids


def ndjson(docs: list[dict[str, Any]]) -> bytes:
    return b"\n".join(orjson.dumps(d) for d in docs)


async def create(reg: RegistryProcess, http: aiohttp.ClientSession, n: int) -> Change:
    status, body = await reg.call(
        http, "POST", "/v1/activities", json=activity_doc(title={"en": f"Activity {n}"})
    )
    assert status == 201, body
    return body["id"], body["version"]


async def patch(
    reg: RegistryProcess, http: aiohttp.ClientSession, activity_id: str, version: int, marker: int
) -> Change:
    status, body = await reg.call(
        http,
        "PATCH",
        f"/v1/activities/{activity_id}",
        data=orjson.dumps({"gender_marker": marker}),
        headers={"Content-Type": "application/merge-patch+json", "If-Match": f'"{version}"'},
    )
    assert status == 200, body
    return body["id"], body["version"]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


async def test_a_registry_killed_mid_backlog_publishes_the_rest_once_restarted(
    kafka_bootstrap: str, unique: str, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    db_path = tmp_path / "registry.db"
    reg = RegistryProcess(
        db_path, kafka_bootstrap, f"t{unique}", tmp_path / "registry.log", relay_batch_size=1
    )
    await reg.provision()
    made: set[Change] = set()
    try:
        await reg.start(http)
        for n in range(5):
            activity_id, _ = await create(reg, http, n)
            made.add((activity_id, 1))
            made.add(await patch(reg, http, activity_id, 1, 0))
            made.add(await patch(reg, http, activity_id, 2, 2))
        status, report = await reg.call(
            http,
            "POST",
            "/v1/activities/bulk?mode=atomic",
            data=ndjson([activity_doc(title={"en": f"Bulk {n}"}) for n in range(300)]),
            headers={"Content-Type": "application/x-ndjson"},
        )
        assert status == 200, report
        bulk = [item["id"] for item in report["created"]]
        made.update((activity_id, 1) for activity_id in bulk)

        # One row per relay pass: kill the process while the backlog is being worked off.
        await eventually(
            lambda: outbox_state(db_path)[1] >= len(made) - 300 + 20,
            timeout=30,
            interval=0.01,
            message="the relay at work on the bulk backlog",
        )
        await reg.kill()
        total, published, _ = outbox_state(db_path)
        assert total == len(made)
        assert 0 < published < total, "killed mid-backlog"

        # While no relay runs, another writer (an operator's script) commits through the
        # same repository: its outbox rows wait for the next relay too.
        db = await SqliteDatabase.open(db_path)
        try:
            store = Store(db, clock=SteppingClock(datetime.now(UTC)))
            for activity_id in bulk[:10]:
                changed = await store.commands.patch(
                    activity_id, {"gender_marker": 2}, expected_version=1, actor="script"
                )
                made.add((changed.id, changed.version))
            made.add(((await store.create(actor="script")).id, 1))
        finally:
            await db.close()

        reg.relay_batch_size = 50
        await reg.start(http)
        activity_id, _ = await create(reg, http, 99)
        made.add((activity_id, 1))
        made.add(await patch(reg, http, activity_id, 1, 0))

        committed = committed_changes(db_path)
        assert committed == made, "the store holds exactly the changes that were accepted"
        seen = await read_until(
            KafkaTransport(kafka_bootstrap),
            namespaced(ACTIVITY_EVENTS, reg.namespace),
            covers(committed),
            what="every committed change",
        )
        assert_exactly_once(seen, committed)
        await eventually(lambda: outbox_state(db_path)[1] == len(committed), timeout=30)
        assert {s.event_id for s in distinct(seen)} == outbox_state(db_path)[2]
        assert await reg.terminate() == 0, reg.log()
    finally:
        await reg.ensure_stopped()


@pytest.fixture
async def own_broker(tmp_path: Path) -> AsyncIterator[DedicatedBroker]:
    broker = DedicatedBroker(tmp_path / "kafka")
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


async def ready(reg: RegistryProcess, http: aiohttp.ClientSession) -> int:
    async with http.get(f"{reg.base}/readyz") as resp:
        return resp.status


# Two broker starts (a JVM each) and a registry process: well past the suite's default
# bound on a loaded 2-core machine, so it gets its own.
@pytest.mark.timeout(300)
async def test_changes_committed_during_a_broker_outage_are_published_after_it(
    own_broker: DedicatedBroker, unique: str, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    db_path = tmp_path / "registry.db"
    reg = RegistryProcess(db_path, own_broker.bootstrap, f"t{unique}", tmp_path / "registry.log")
    transport = KafkaTransport(own_broker.bootstrap)
    topic = namespaced(ACTIVITY_EVENTS, reg.namespace)
    await reg.provision()
    try:
        await reg.start(http)
        before: set[Change] = set()
        for n in range(4):
            activity_id, _ = await create(reg, http, n)
            before.update({(activity_id, 1), await patch(reg, http, activity_id, 1, 0)})
        await read_until(transport, topic, covers(before), what="the changes before the outage")
        await eventually(lambda: outbox_state(db_path)[1] == len(before), timeout=30)

        await own_broker.stop()
        await eventually(
            lambda: _not_ready(reg, http), timeout=30, message="readiness reports the outage"
        )
        during: set[Change] = set()
        for n in range(4, 8):
            activity_id, _ = await create(reg, http, n)
            during.update({(activity_id, 1), await patch(reg, http, activity_id, 1, 2)})
        first = sorted(before)[0][0]
        during.add(await patch(reg, http, first, 2, 2))
        total, published, _ = outbox_state(db_path)
        assert (total, published) == (len(before) + len(during), len(before)), "held back"

        await own_broker.start(keep_data=True)
        everything = before | during
        await eventually(
            lambda: outbox_state(db_path)[1] == len(everything),
            timeout=90,
            message="the relay caught up by itself after the broker came back",
        )
        after = {await create(reg, http, 99)}
        everything |= after
        assert committed_changes(db_path) == everything

        seen = await read_until(transport, topic, covers(everything), what="every change")
        assert_exactly_once(seen, everything)
        earlier_ids = [s.event_id for s in seen if (s.activity_id, s.version) in before]
        assert len(earlier_ids) == len(set(earlier_ids)) == len(before), (
            "what was published before the outage is still there, and not sent again"
        )
        await eventually(lambda: _ready(reg, http), timeout=60, message="ready again")
        assert await reg.terminate() == 0, reg.log()
    finally:
        await reg.ensure_stopped()


async def _not_ready(reg: RegistryProcess, http: aiohttp.ClientSession) -> bool:
    return await ready(reg, http) == 503


async def _ready(reg: RegistryProcess, http: aiohttp.ClientSession) -> bool:
    return await ready(reg, http) == 200
