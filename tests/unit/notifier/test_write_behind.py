"""The write-behind writer: group commit, the flush barrier, failures, the bounded window."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.notifier.deliveries import Attempt, AttemptOutcome, Delivery, DeliveryStatus
from services.notifier.events import IncomingEvent
from services.notifier.sqlite_store import SqliteStore
from services.notifier.subscriptions import Filters, Partner, Subscription
from services.notifier.write_behind import DeliveryWriter
from tests.support.waiting import loop_turn, still_pending

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Outage(Exception):
    pass


class GatedStore(SqliteStore):
    """SQLite, with writes that can be made to fail or to wait for a gate."""

    failures = 0
    gate: asyncio.Event | None = None
    entered: asyncio.Event | None = None
    writes = 0

    async def write_batch(
        self, new: Sequence[Delivery], attempts: Sequence[tuple[Attempt, Delivery]] = ()
    ) -> list[Delivery]:
        self.writes += 1
        if self.entered is not None:
            self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            self.failures -= 1
            raise Outage("disk full")
        return await super().write_batch(new, attempts)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[GatedStore]:
    plain = await SqliteStore.open(tmp_path / "n.db")
    gated = GatedStore(plain.db, {})
    await gated.add_partner(Partner("pa", "Partner A"), key_hashes=[])
    yield gated
    await plain.close()


async def subscription(store: SqliteStore) -> Subscription:
    s = Subscription.new(
        partner_id="pa",
        url="https://hooks.example/x",
        event_types=frozenset({"*"}),
        filters=Filters(),
        now=T0,
    )
    await store.insert_subscription(s)
    return s


def delivery(s: Subscription, n: int, subject: str = "act-1") -> Delivery:
    event = IncomingEvent(id=f"e{n}", type="a.v1", subject=subject, time=T0, body=b"{}")
    return Delivery.for_event(event, s.id, now=T0)


def delivered(d: Delivery) -> tuple[Attempt, Delivery]:
    attempt = Attempt(
        id=f"att-{d.id}",
        delivery_id=d.id,
        subscription_id=d.subscription_id,
        event_id=d.event_id,
        number=1,
        started_at=T0,
        outcome=AttemptOutcome.DELIVERED,
        latency_ms=3,
        status_code=204,
    )
    return attempt, replace(d, status=DeliveryStatus.DELIVERED, attempts=1, finished_at=T0)


async def test_concurrent_enqueues_share_one_transaction_and_are_durable_on_return(
    store: GatedStore,
) -> None:
    s = await subscription(store)
    writer = DeliveryWriter(store)
    await writer.start()
    batches = [[delivery(s, n, f"act-{n}")] for n in range(10)]
    added = await asyncio.gather(*(writer.enqueue(b) for b in batches))
    assert store.writes == 1
    assert [len(a) for a in added] == [1] * 10
    assert [a[0].seq for a in added] == sorted(a[0].seq for a in added)
    assert len(await store.pending_lanes()) == 10
    # A redelivered event adds nothing: de-duplication on (subscription, event id).
    again = Delivery.for_event(
        IncomingEvent(id="e3", type="a.v1", subject="act-3", time=T0, body=b"{}"), s.id, now=T0
    )
    assert await writer.enqueue([again]) == []
    await writer.close()


async def test_flush_returns_once_the_attempts_handed_over_before_it_are_stored(
    store: GatedStore,
) -> None:
    s = await subscription(store)
    writer = DeliveryWriter(store)
    await writer.start()
    (d,) = await writer.enqueue([delivery(s, 1)])
    told: list[str] = []
    attempt, done = delivered(d)
    await writer.record(attempt, done, then=lambda: told.append("durable"))
    await writer.flush()
    assert told == ["durable"]
    stored = await store.get_delivery(d.id)
    assert stored is not None
    assert stored.status is DeliveryStatus.DELIVERED
    assert [a.id for a in await store.list_attempts(s.id)] == [attempt.id]
    await writer.close()


async def test_a_failed_write_fails_awaited_enqueues_and_retries_handed_over_work(
    store: GatedStore,
) -> None:
    s = await subscription(store)
    writer = DeliveryWriter(store, retry_seconds=0)
    await writer.start()
    store.failures = 1
    with pytest.raises(Outage):
        await writer.enqueue([delivery(s, 1)])
    assert await store.pending_lanes() == []

    store.failures = 2
    queued: list[list[Delivery]] = []
    await writer.enqueue_later([delivery(s, 2)], then=queued.append)
    await writer.flush()
    assert store.writes == 4  # the failed enqueue, two failures, then the write that held
    assert [d.event_id for d in queued[0]] == ["e2"]
    assert len(await store.pending_lanes()) == 1
    await writer.close()


async def test_the_window_is_bounded_while_the_store_stalls(store: GatedStore) -> None:
    s = await subscription(store)
    writer = DeliveryWriter(store, max_buffered=2)
    await writer.start()
    ds = await writer.enqueue([delivery(s, n, f"act-{n}") for n in range(3)])
    store.gate, store.entered = asyncio.Event(), asyncio.Event()
    for d in ds[:2]:
        await writer.record(*delivered(d))
    await store.entered.wait()  # the flusher is writing those two and the store stalls
    third = asyncio.create_task(writer.record(*delivered(ds[2])))
    assert await still_pending(third, within=0.2), "the window is full while the store stalls"
    store.gate.set()
    await third
    await writer.flush()
    assert len(await store.list_attempts(s.id)) == 3
    await writer.close()


async def test_attempts_nobody_awaits_linger_into_one_transaction_and_flush_ends_the_wait(
    store: GatedStore,
) -> None:
    s = await subscription(store)
    # A linger far longer than the test may take: only flush can end it in time.
    writer = DeliveryWriter(store, linger_seconds=60.0)
    await writer.start()
    # New deliveries do not linger: awaited ones are stored at once.
    ds = await asyncio.wait_for(writer.enqueue([delivery(s, n, f"act-{n}") for n in range(3)]), 10)
    writes = store.writes
    told: list[str] = []
    for d in ds:
        attempt, done = delivered(d)
        await writer.record(attempt, done, then=lambda: told.append("durable"))
        await loop_turn()  # the flusher wakes between attempts and keeps waiting
    assert told == []
    assert store.writes == writes
    await asyncio.wait_for(writer.flush(), 10)
    assert told == ["durable"] * 3
    assert store.writes == writes + 1  # the three attempts, one transaction
    assert {a.delivery_id for a in await store.list_attempts(s.id)} == {d.id for d in ds}
    await asyncio.wait_for(writer.close(), 10)


async def test_a_long_hand_over_is_stored_in_small_transactions_and_the_first_start_at_once(
    store: GatedStore,
) -> None:
    # The first lanes of a burst start once their own few rows are stored, not once the
    # whole burst is: new deliveries go max_new_batch rows to a transaction.
    s = await subscription(store)
    writer = DeliveryWriter(store, max_new_batch=3)
    await writer.start()
    writes_when_told: list[int] = []
    for n in range(7):
        await writer.enqueue_later(
            [delivery(s, n, f"act-{n}")], then=lambda _: writes_when_told.append(store.writes)
        )
    await writer.flush()
    assert store.writes == 3
    assert writes_when_told == [1, 1, 1, 2, 2, 2, 3]
    assert len(await store.pending_lanes()) == 7
    await writer.close()
