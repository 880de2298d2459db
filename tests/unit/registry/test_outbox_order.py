"""Outbox rows reach the relay in commit order on PostgreSQL, with several replicas writing.

A sequence number is drawn when a row is inserted, not when its transaction commits, so
without a lock a later-drawn row can commit first, and a relay reading in between would
publish it before the earlier one. These tests run real replicas (separate pools on one
schema) against real PostgreSQL and read the outbox the way the relay does.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest

from services.registry.db.store import REGISTRY_STORE
from shared.db import PostgresDatabase, migrate
from tests.support.postgres import fresh_schema, postgres_url
from tests.unit.registry.store import Store, fields

pytestmark = pytest.mark.postgres


@pytest.fixture
async def replicas() -> AsyncIterator[list[Store]]:
    """Three registry replicas sharing one migrated PostgreSQL schema."""
    async with fresh_schema(postgres_url()) as url, AsyncExitStack() as stack:
        stores = []
        for _ in range(3):
            db = await PostgresDatabase.open(
                url, write_lock=REGISTRY_STORE.write_lock, min_size=1, max_size=4
            )
            stack.push_async_callback(db.close)
            stores.append(Store(db))
        await migrate(stores[0].db, REGISTRY_STORE)
        yield stores


async def waiting_for_a_lock(store: Store) -> bool:
    async with store.db.read() as conn:
        row = await conn.fetchrow(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        )
    return row is not None and int(row[0]) > 0


async def test_a_later_writer_cannot_commit_its_row_before_an_earlier_one(
    replicas: list[Store],
) -> None:
    first, second, relay = replicas
    added, finish = asyncio.Event(), asyncio.Event()

    async def slow_create() -> str:
        async with first.db.transaction() as conn:
            activity = await first.commands.create_in(conn, fields(), actor="slow")
            added.set()  # its outbox row has its number; the transaction stays open
            await finish.wait()
        return activity.id

    slow = asyncio.create_task(slow_create())
    await added.wait()
    fast = asyncio.create_task(second.create(actor="fast"))
    while not await waiting_for_a_lock(relay):  # until the server has parked the second
        done, _ = await asyncio.wait({fast}, timeout=0.01)
        if done:
            break
    assert await relay.outbox.pending(10) == [], "nothing may be published past the open row"
    assert not fast.done(), "the second writer waits for the first to commit"
    finish.set()
    slow_id, fast_activity = await slow, await fast
    rows = await relay.outbox.pending(10)
    assert [r.activity_id for r in rows] == [slow_id, fast_activity.id]
    assert rows[0].seq < rows[1].seq


async def test_a_relay_reading_while_replicas_write_publishes_in_commit_order(
    replicas: list[Store],
) -> None:
    rng = random.Random(11)
    writers_done = asyncio.Event()
    published: list[list[int]] = []

    async def writer(store: Store, n: int) -> None:
        for i in range(n):
            created = await store.create(actor=f"w{i}")
            if rng.random() < 0.5:
                await store.commands.patch(
                    created.id, {"gender_marker": 2}, expected_version=1, actor="w"
                )

    async def relay(store: Store) -> None:
        while True:
            finished = writers_done.is_set()
            rows = await store.outbox.pending(7)
            if rows:
                published.append([r.seq for r in rows])
                await store.outbox.mark_published([r.seq for r in rows])
            elif finished:
                return
            else:
                await asyncio.sleep(0)

    relaying = asyncio.create_task(relay(replicas[2]))
    try:
        async with asyncio.timeout(120):  # a deadlock between replicas fails, not hangs
            await asyncio.gather(*(writer(s, 25) for s in replicas for _ in range(3)))
    finally:
        writers_done.set()
        await relaying

    order = [seq for batch in published for seq in batch]
    assert order == sorted(order), "a row was published after a later-numbered one"
    async with replicas[0].db.read() as conn:
        row = await conn.fetchrow("SELECT count(*), count(published_at) FROM outbox")
    assert row is not None
    assert int(row[0]) == int(row[1]) == len(order) >= 9 * 25
