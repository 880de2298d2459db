"""SQLite specifics: an event's body is stored once, and older rows keep theirs."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from services.notifier.deliveries import Delivery, Lane
from services.notifier.events import IncomingEvent
from services.notifier.sqlite_store import SqliteStore
from services.notifier.subscriptions import Filters, Subscription

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def subscription(n: int) -> Subscription:
    return Subscription.new(
        partner_id="pa",
        url=f"https://hooks.example/{n}",
        event_types=frozenset({"*"}),
        filters=Filters(),
        now=T0,
    )


async def test_bodies_are_stored_once_per_event_and_legacy_rows_keep_theirs(
    tmp_path: Path,
) -> None:
    store = await SqliteStore.open(tmp_path / "n.db")
    subs = [subscription(n) for n in range(3)]
    for s in subs:
        await store.insert_subscription(s)
    event = IncomingEvent(id="e1", type="a.v1", subject="act-1", time=T0, body=b'{"n": 1}')
    added = await store.enqueue([Delivery.for_event(event, s.id, now=T0) for s in subs])
    assert [d.body for d in added] == [b'{"n": 1}'] * 3

    def counts(c: sqlite3.Connection) -> tuple[int, int]:
        bodies = c.execute("SELECT COUNT(*) FROM event_bodies").fetchone()[0]
        inline = c.execute("SELECT COUNT(*) FROM deliveries WHERE body != X''").fetchone()[0]
        return int(bodies), int(inline)

    assert await store.db.read(counts) == (1, 0)
    # A delivery written before event_bodies existed carries its body in its own row.
    await store.db.transaction(
        lambda c: c.execute(
            "INSERT INTO deliveries (id, subscription_id, event_id, event_type, subject, body,"
            " status, attempts, next_attempt_at, created_at, generation)"
            " VALUES ('dlv_old', ?, 'e0', 'a.v1', 'act-0', X'7B7D', 'pending', 0, ?, ?, 0)",
            (subs[0].id, T0.isoformat(), T0.isoformat()),
        )
    )
    (old,) = await store.lane_pending(Lane(subs[0].id, "act-0"))
    assert old.body == b"{}"
    stored = await store.get_delivery(added[1].id)
    assert stored is not None
    assert stored.body == b'{"n": 1}'
    await store.close()
