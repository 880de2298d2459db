"""One behaviour suite for the notifier store, run on the memory twin and on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.notifier.deliveries import (
    Attempt,
    AttemptOutcome,
    Delivery,
    DeliveryStatus,
    Lane,
)
from services.notifier.events import IncomingEvent
from services.notifier.memory_store import MemoryStore
from services.notifier.sqlite_store import SqliteStore
from services.notifier.store import NotifierStore
from services.notifier.subscriptions import (
    Filters,
    Partner,
    Subscription,
    SubscriptionStatus,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[NotifierStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    sqlite = await SqliteStore.open(tmp_path / "notifier.db")
    yield sqlite
    await sqlite.close()


def sub(partner_id: str = "pa", **kw: object) -> Subscription:
    base = Subscription.new(
        partner_id=partner_id,
        url="https://hooks.example/x",
        event_types=frozenset({"a.v1"}),
        filters=Filters(countries=frozenset({"KE"}), sdgs=frozenset({9})),
        now=T0,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def event(n: int, subject: str = "act-1") -> IncomingEvent:
    return IncomingEvent(id=f"e{n}", type="a.v1", subject=subject, time=T0, body=b"{}")


def attempt(d: Delivery, n: int = 1, outcome: AttemptOutcome = AttemptOutcome.RETRY) -> Attempt:
    return Attempt(
        id=f"att-{d.id}-{n}",
        delivery_id=d.id,
        subscription_id=d.subscription_id,
        event_id=d.event_id,
        number=n,
        started_at=T0,
        outcome=outcome,
        latency_ms=12,
        status_code=500,
        response_excerpt="nope",
        error="HTTP 500",
    )


async def test_partner_keys(store: NotifierStore) -> None:
    await store.add_partner(Partner("pa", "A"), key_hashes=["h1", "h2"])
    assert await store.partner_by_key_hash("h2") == Partner("pa", "A")
    assert await store.partner_by_key_hash("nope") is None


async def test_set_partner_keys_replaces_the_partners_keys_only(store: NotifierStore) -> None:
    await store.add_partner(Partner("pa", "A"), key_hashes=["h1", "h2"])
    await store.add_partner(Partner("pb", "B"), key_hashes=["h9"])
    await store.set_partner_keys(Partner("pa", "A renamed"), key_hashes=["h3"])
    assert await store.partner_by_key_hash("h1") is None
    assert await store.partner_by_key_hash("h3") == Partner("pa", "A renamed")
    assert await store.partner_by_key_hash("h9") == Partner("pb", "B")


async def test_subscription_round_trip_and_partner_listing(store: NotifierStore) -> None:
    mine, other = sub(), sub("pb")
    rotated = mine.rotated(now=T0, overlap=timedelta(hours=1))
    await store.insert_subscription(rotated)
    await store.insert_subscription(other)
    assert await store.get_subscription(mine.id) == rotated
    assert await store.list_subscriptions("pa") == [rotated]
    assert await store.list_subscriptions("pa", after=mine.id) == []
    paused = rotated.with_status(SubscriptionStatus.PAUSED, now=T0)
    await store.save_subscription(paused)
    assert await store.get_subscription(mine.id) == paused
    assert {s.id for s in await store.routable_subscriptions()} == {mine.id, other.id}
    await store.save_subscription(paused.with_status(SubscriptionStatus.DISABLED, now=T0))
    assert {s.id for s in await store.routable_subscriptions()} == {other.id}


async def test_failure_streak(store: NotifierStore) -> None:
    s = sub()
    await store.insert_subscription(s)
    assert await store.note_endpoint_failure(s.id, T0) == T0
    assert await store.note_endpoint_failure(s.id, T0 + timedelta(hours=1)) == T0
    await store.save_subscription(s)  # does not touch the streak
    assert await store.note_endpoint_failure(s.id, T0 + timedelta(hours=2)) == T0
    await store.note_endpoint_success(s.id)
    later = T0 + timedelta(hours=3)
    assert await store.note_endpoint_failure(s.id, later) == later
    assert await store.note_endpoint_failure("missing", T0) is None


async def test_enqueue_is_ordered_and_idempotent(store: NotifierStore) -> None:
    s = sub()
    await store.insert_subscription(s)
    first = [Delivery.for_event(event(n), s.id, now=T0) for n in range(3)]
    added = await store.enqueue(first)
    assert [d.seq for d in added] == sorted(d.seq for d in added)
    again = await store.enqueue([Delivery.for_event(event(1), s.id, now=T0)])
    assert again == []
    orphan = await store.enqueue([Delivery.for_event(event(9), "sub_missing", now=T0)])
    assert orphan == []
    head = await store.lane_head(Lane(s.id, "act-1"))
    assert head == added[0]
    assert await store.pending_lanes() == [Lane(s.id, "act-1")]


async def test_a_write_batch_stores_new_deliveries_and_attempts_together(
    store: NotifierStore,
) -> None:
    s = sub()
    await store.insert_subscription(s)
    d1, d2 = await store.enqueue([Delivery.for_event(event(n), s.id, now=T0) for n in (1, 2)])
    done = replace(d1, status=DeliveryStatus.DELIVERED, attempts=1, finished_at=T0)
    new = [Delivery.for_event(event(n), s.id, now=T0) for n in (3, 2)]  # e2 is known
    added = await store.write_batch(new, [(attempt(d1, 1, AttemptOutcome.DELIVERED), done)])
    assert [d.event_id for d in added] == ["e3"]
    assert added[0].seq > d2.seq
    assert await store.get_delivery(d1.id) == done
    assert [a.delivery_id for a in await store.list_attempts(s.id)] == [d1.id]
    assert await store.lane_pending(d1.lane) == [d2, added[0]]
    assert await store.lane_pending(Lane(s.id, "act-9")) == []


async def test_attempts_advance_the_lane(store: NotifierStore) -> None:
    s = sub()
    await store.insert_subscription(s)
    d1, d2 = await store.enqueue([Delivery.for_event(event(n), s.id, now=T0) for n in (1, 2)])
    await store.record_attempt(attempt(d1), replace(d1, attempts=1, last_error="HTTP 500"))
    head = await store.lane_head(d1.lane)
    assert head is not None
    assert (head.id, head.attempts, head.last_error) == (d1.id, 1, "HTTP 500")
    done = replace(head, status=DeliveryStatus.DELIVERED, attempts=2, finished_at=T0)
    await store.record_attempt(attempt(d1, 2, AttemptOutcome.DELIVERED), done)
    assert await store.lane_head(d1.lane) == d2
    assert await store.get_delivery(d1.id) == done
    listed = await store.list_attempts(s.id)
    assert [a.number for a in listed] == [2, 1]
    assert listed[1] == attempt(d1)
    assert await store.list_attempts(s.id, event_id="e2") == []


async def test_redrivable_and_fail_pending(store: NotifierStore) -> None:
    s = sub()
    await store.insert_subscription(s)
    d1, d2, d3 = await store.enqueue(
        [Delivery.for_event(event(n), s.id, now=T0 + timedelta(minutes=n)) for n in (1, 2, 3)]
    )
    await store.update_delivery(replace(d1, status=DeliveryStatus.DELIVERED, finished_at=T0))
    failed = await store.fail_pending(s.id, error="disabled", at=T0)
    assert [(d.id, d.status, d.last_error) for d in failed] == [
        (d2.id, DeliveryStatus.FAILED, "disabled"),
        (d3.id, DeliveryStatus.FAILED, "disabled"),
    ]
    assert await store.pending_lanes() == []
    assert [d.id for d in await store.redrivable(s.id, since=None)] == [d2.id, d3.id]
    since = await store.redrivable(s.id, since=T0 + timedelta(minutes=2))
    assert [d.id for d in since] == [d2.id, d3.id]
    assert len(await store.redrivable(s.id, since=T0)) == 3
    (copy,) = await store.enqueue([d2.redriven(now=T0, generation=1)])
    assert copy.event_id == d2.event_id
    assert [d.id for d in await store.redrivable(s.id, since=None)] == [d3.id]


async def test_delete_removes_everything(store: NotifierStore) -> None:
    s = sub()
    await store.insert_subscription(s)
    (d,) = await store.enqueue([Delivery.for_event(event(1), s.id, now=T0)])
    await store.record_attempt(attempt(d), replace(d, attempts=1))
    await store.delete_subscription(s.id)
    assert await store.get_subscription(s.id) is None
    assert await store.get_delivery(d.id) is None
    assert await store.list_attempts(s.id) == []
    assert await store.pending_lanes() == []
