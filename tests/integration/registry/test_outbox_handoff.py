"""Write-behind: the relay publishes the rows its own transactions hand over without
reading the table back, and still publishes every row once, in commit order, when rows it
was not handed (another writer's, a bulk import's) come in between.

Real Kafka, the real relay and the real store on both dialects. The publisher records the
order it is asked to publish in; the outbox counts its table reads.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from services.registry.db.outbox import OutboxRecord, OutboxRow, OutboxTable
from services.registry.relay import OutboxRelay, RelayMetrics
from shared import EventPublisher, KafkaTransport, Outgoing, configure_logging
from shared.db import Database
from shared.events import ACTIVITY_EVENTS, build_catalog, namespaced
from tests.integration.registry.published import assert_exactly_once, covers, read_until, stored
from tests.integration.registry.test_outbox_recovery import ensure_activity_topics
from tests.support.waiting import eventually
from tests.unit.registry.databases import DIALECTS, open_store
from tests.unit.registry.store import SteppingClock, Store, fields

pytestmark = pytest.mark.kafka


class CountingOutbox(OutboxTable):
    """The real outbox table, counting how often the relay reads its pending rows."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.reads = 0

    async def pending(self, limit: int) -> list[OutboxRow]:
        self.reads += 1
        return await super().pending(limit)


class RecordingPublisher(EventPublisher):
    """Publishes for real and notes the event ids of each batch, in order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[str] = []

    async def publish_all(self, items: Sequence[Outgoing]) -> list[Any]:
        results = await super().publish_all(items)
        self.sent.extend(i.event_id or "" for i in items if not i.topic.endswith("snapshots"))
        return results


@pytest.fixture(params=DIALECTS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with open_store(request.param, tmp_path) as db:
        yield db


async def started_relay(
    database: Database, bootstrap: str, namespace: str
) -> tuple[Store, OutboxRelay, RecordingPublisher, asyncio.Task[None]]:
    transport = KafkaTransport(bootstrap)
    await ensure_activity_topics(transport, namespace)
    publisher = RecordingPublisher(transport.producer(client_id="relay"), source="/test")
    await publisher.start()
    store = Store(database, clock=SteppingClock(datetime.now(UTC)))
    outbox = CountingOutbox(database)
    relay = OutboxRelay(
        db=database,
        outbox=outbox,
        publisher=publisher,
        catalog=build_catalog(),
        logger=configure_logging("relay-test", "WARNING", stream=io.StringIO()),
        metrics=RelayMetrics(CollectorRegistry()),
        namespace=namespace,
        batch_size=50,
        poll_interval=3600,  # no idle polls: only hand-overs and wake-ups drive it
    )
    handed = store.commands._on_commit

    def hand(written: list[OutboxRecord]) -> None:
        handed(written)
        relay.handed(written)

    store.commands._on_commit = hand
    return store, relay, publisher, asyncio.create_task(relay.run())


async def stop(relay: OutboxRelay, task: asyncio.Task[None], publisher: EventPublisher) -> None:
    relay.stop()
    await asyncio.wait_for(task, 30)
    await publisher.close()


async def drained(store: Store) -> bool:
    return (await store.outbox.backlog())[0] == 0


async def test_handed_rows_are_published_without_reading_the_table(
    database: Database, kafka_bootstrap: str, unique: str
) -> None:
    store, relay, publisher, task = await started_relay(database, kafka_bootstrap, f"t{unique}")
    outbox = relay._outbox
    assert isinstance(outbox, CountingOutbox)
    try:
        await eventually(lambda: outbox.reads >= 1, timeout=30, message="the start-up read")
        reads = outbox.reads
        made = [await store.create(title={"en": f"Activity {n}"}) for n in range(5)]
        made += await asyncio.gather(*(store.create(title={"en": f"A {n}"}) for n in range(20)))
        for activity in made[:5]:
            await store.commands.patch(
                activity.id, {"gender_marker": 2}, expected_version=1, actor="e"
            )
        await eventually(lambda: drained(store), timeout=30, message="every row published")
        assert outbox.reads == reads, "the relay read back rows it had been handed"
    finally:
        await stop(relay, task, publisher)
    committed, ids, published = await stored(database)
    assert len(committed) == published == 30
    async with database.read() as conn:
        order = [str(r[0]) for r in await conn.fetch("SELECT event_id FROM outbox ORDER BY seq")]
    assert publisher.sent == order, "published once each, in commit order"
    seen = await read_until(
        KafkaTransport(kafka_bootstrap),
        namespaced(ACTIVITY_EVENTS, f"t{unique}"),
        covers(committed),
        what="every change",
    )
    assert_exactly_once(seen, committed)
    assert {s.event_id for s in seen} == ids


async def test_rows_not_handed_over_are_read_from_the_table_in_order(
    database: Database, kafka_bootstrap: str, unique: str
) -> None:
    store, relay, publisher, task = await started_relay(database, kafka_bootstrap, f"t{unique}")
    try:
        for n in range(6):
            await store.create(title={"en": f"Handed {n}"})
            # Another writer on the same store (a script, a bulk import) commits rows the
            # relay is not handed; the next hand-over shows the gap.
            async with database.transaction() as conn:
                for k in range(n % 3):
                    await store.commands.create_in(conn, fields(), actor=f"script-{n}-{k}")
        await store.create(title={"en": "Last"})
        await eventually(lambda: drained(store), timeout=30, message="every row published")
    finally:
        await stop(relay, task, publisher)
    async with database.read() as conn:
        order = [str(r[0]) for r in await conn.fetch("SELECT event_id FROM outbox ORDER BY seq")]
    assert len(order) == 7 + sum(n % 3 for n in range(6))
    assert publisher.sent == order, "every row once, in commit order"
    committed, _, published = await stored(database)
    assert published == len(committed) == len(order)


async def test_a_wake_up_without_rows_reads_the_table(
    database: Database, kafka_bootstrap: str, unique: str
) -> None:
    store, relay, publisher, task = await started_relay(database, kafka_bootstrap, f"t{unique}")
    try:
        await store.create()
        await eventually(lambda: drained(store), timeout=30, message="the handed row")
        async with database.transaction() as conn:
            await store.commands.create_in(conn, fields(), actor="script")
        relay.wake()
        await eventually(lambda: drained(store), timeout=30, message="the row nobody handed")
    finally:
        await stop(relay, task, publisher)
    assert len(publisher.sent) == 2
