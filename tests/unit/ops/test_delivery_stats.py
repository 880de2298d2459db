"""The notifier's delivery counts per subscription, on the memory twin and on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from services.notifier.deliveries import AttemptOutcome, Delivery, DeliveryStatus
from services.notifier.memory_store import MemoryStore
from services.notifier.sqlite_store import SqliteStore
from services.notifier.store import NotifierStore
from services.notifier.subscriptions import SubscriptionStatus
from tests.unit.notifier.test_store_behaviour import T0, attempt, event, sub


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[NotifierStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    sqlite = await SqliteStore.open(tmp_path / "notifier.db")
    yield sqlite
    await sqlite.close()


async def test_counts_follow_the_latest_generation_and_name_the_last_attempt(
    store: NotifierStore,
) -> None:
    busy, quiet = sub(), sub("pb", status=SubscriptionStatus.PAUSED)
    await store.insert_subscription(busy)
    await store.insert_subscription(quiet)
    d1, d2, d3 = await store.enqueue(
        [Delivery.for_event(event(n), busy.id, now=T0 + timedelta(minutes=n)) for n in (1, 2, 3)]
    )
    done = replace(d1, status=DeliveryStatus.DELIVERED, attempts=1, finished_at=T0)
    await store.record_attempt(attempt(d1, 1, AttemptOutcome.DELIVERED), done)
    failed = replace(d2, status=DeliveryStatus.FAILED, attempts=1, finished_at=T0)
    await store.record_attempt(attempt(d2, 1, AttemptOutcome.RETRY), failed)

    before = {s.subscription_id: s for s in await store.delivery_stats()}
    assert (before[busy.id].delivered, before[busy.id].failed, before[busy.id].pending) == (
        1,
        1,
        1,
    )
    assert before[busy.id].last_outcome is AttemptOutcome.RETRY
    assert before[busy.id].last_status_code == 500
    assert before[busy.id].partner_id == "pa"
    assert before[quiet.id].as_json() == {
        "subscription": quiet.id,
        "partner": "pb",
        "status": "paused",
        "delivered": 0,
        "failed": 0,
        "pending": 0,
        "last_attempt": None,
    }

    # A redrive replaces the failed generation: the event counts once, as pending.
    await store.enqueue([failed.redriven(now=T0, generation=1)])
    after = {s.subscription_id: s for s in await store.delivery_stats()}
    assert (after[busy.id].delivered, after[busy.id].failed, after[busy.id].pending) == (1, 0, 2)
    assert [s.subscription_id for s in await store.delivery_stats()] == sorted([busy.id, quiet.id])
    assert d3.status is DeliveryStatus.PENDING
