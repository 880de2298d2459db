"""Group commit on both dialects: concurrent writes share one transaction and one commit,
and each still succeeds, fails and becomes durable on its own.

`database.group.groups` counts the transactions committed; writes started together with
`asyncio.gather` all queue while the first one opens its transaction, so they share it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from services.registry.commands import Idempotency
from services.registry.db.idempotency import StoredResponse
from services.registry.db.store import REGISTRY_STORE
from services.registry.errors import VersionMismatch
from services.registry.query import ActivityQuery
from shared import NotFound
from shared.db import Database, GroupLost, PostgresDatabase, SqliteDatabase, available, migrate
from shared.domain import Activity
from tests.support.postgres import fresh_schema, postgres_url
from tests.unit.registry.databases import DIALECTS
from tests.unit.registry.store import Store, body_of, fields, render


@pytest.fixture
def store(database: Database) -> Store:
    return Store(database)


def groups(db: Database) -> int:
    return int(getattr(db, "group").groups)  # noqa: B009 - both adapters have one


async def committed_ids(db: Database) -> set[str]:
    """What another connection sees: only committed rows."""
    async with db.read() as conn:
        return {r[0] for r in await conn.fetch("SELECT id FROM activities")}


async def test_concurrent_creates_share_one_commit_and_each_is_durable_when_answered(
    store: Store,
) -> None:
    before = groups(store.db)
    seen_at_answer: list[bool] = []

    async def create(i: int) -> Activity:
        activity = await store.create(actor=f"a{i}")
        seen_at_answer.append(activity.id in await committed_ids(store.db))
        return activity

    created = await asyncio.gather(*(create(i) for i in range(16)))
    assert groups(store.db) - before == 1, "16 writes queued together: one transaction"
    assert seen_at_answer == [True] * 16, "no create is answered before its commit"
    assert len({a.id for a in created}) == 16
    rows = await store.outbox.pending(100)
    assert [body_of(r.body)["activity_id"] for r in rows] == sorted(a.id for a in created)
    assert [r.seq for r in rows] == sorted(r.seq for r in rows)
    assert store.commits == 16


async def test_a_failing_write_in_a_group_fails_alone(store: Store) -> None:
    first = await store.create()
    second = await store.create()
    before = groups(store.db)

    def broken(activity: Activity, state: bytes) -> StoredResponse:
        raise RuntimeError("the response could not be rendered")

    results = await asyncio.gather(
        store.commands.patch(first.id, {"gender_marker": 2}, expected_version=1, actor="e1"),
        store.commands.patch(first.id, {"gender_marker": 0}, expected_version=1, actor="e2"),
        store.commands.create(fields(), actor="staff", render=broken, idempotency=None),
        store.commands.patch(
            "TA-2026-424242", {"gender_marker": 2}, expected_version=None, actor="x"
        ),
        store.commands.withdraw(second.id, "duplicate", expected_version=1, actor="admin"),
        store.create(actor="after-the-failures"),
        return_exceptions=True,
    )
    assert groups(store.db) - before == 1, "all six shared one transaction"
    patched, stale, unrendered, missing, withdrawn, created = results
    assert isinstance(patched, Activity) and patched.version == 2
    assert isinstance(stale, VersionMismatch), "saw the first patch, as a later transaction would"
    assert isinstance(unrendered, RuntimeError)
    assert isinstance(missing, NotFound)
    assert isinstance(withdrawn, Activity) and withdrawn.status.value == "withdrawn"
    assert isinstance(created, Activity)
    assert created.id.endswith("000003"), "the failed create's number was rolled back with it"

    assert await store.activities.get(first.id) == patched
    assert [h.version for h in await store.activities.history(first.id)] == [1, 2]
    assert await committed_ids(store.db) == {first.id, second.id, created.id}
    rows = await store.outbox.pending(100)
    assert [(r.activity_id, body_of(r.body)["version"]) for r in rows] == [
        (first.id, 1),
        (second.id, 1),
        (first.id, 2),
        (second.id, 2),
        (created.id, 1),
    ]
    assert store.commits == 2 + 3


async def test_one_idempotency_key_twice_in_one_group_creates_once(store: Store) -> None:
    key = Idempotency(key="import-2026-03-02", request_hash="h1")
    before = groups(store.db)
    (first, replayed_first), (second, replayed_second) = await asyncio.gather(
        *(
            store.commands.create(fields(), actor="staff", render=render, idempotency=key)
            for _ in range(2)
        )
    )
    assert groups(store.db) - before == 1
    assert (replayed_first, replayed_second) == (False, True)
    assert second.body == first.body
    page, _ = await store.activities.list(ActivityQuery())
    assert len(page) == 1
    assert len(await store.outbox.pending(10)) == 1


async def test_a_failed_commit_fails_every_write_it_held(store: Store) -> None:
    # A deferred constraint is checked at COMMIT: a real commit failure on both stores.
    async with store.db.transaction() as conn:
        await conn.execute(
            "CREATE TABLE probe (activity_id TEXT REFERENCES activities (id)"
            " DEFERRABLE INITIALLY DEFERRED)"
        )

    async def dangling() -> None:
        async with store.db.transaction() as conn:
            await conn.execute("INSERT INTO probe (activity_id) VALUES ('TA-2026-999999')")

    before = groups(store.db)
    results = await asyncio.gather(store.create(), dangling(), return_exceptions=True)
    assert groups(store.db) == before, "nothing committed"
    assert all(isinstance(r, GroupLost) for r in results), results
    assert await committed_ids(store.db) == set()
    assert await store.outbox.pending(10) == []
    assert store.commits == 0
    again = await store.create()
    assert again.id.endswith("000001"), "the store goes on, with the lost number drawn anew"


# --- migrations under a lock ---------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_two_replicas_starting_at_once_migrate_once(dialect: str, tmp_path: Path) -> None:
    shipped = [name for _, name, _ in available(REGISTRY_STORE.migrations, dialect)]

    async def two(first: Database, second: Database) -> None:
        try:
            results = await asyncio.gather(
                migrate(first, REGISTRY_STORE), migrate(second, REGISTRY_STORE)
            )
            assert sorted(results, key=len) == [[], shipped], "one migrated, one found it done"
            async with first.read() as conn:
                rows = await conn.fetch("SELECT name FROM schema_migrations ORDER BY version")
            assert [r[0] for r in rows] == shipped
            assert await migrate(second, REGISTRY_STORE) == []
        finally:
            await first.close()
            await second.close()

    if dialect == "sqlite":
        path = tmp_path / "registry.db"
        await two(await SqliteDatabase.open(path), await SqliteDatabase.open(path))
        return
    async with fresh_schema(postgres_url()) as url:
        await two(
            await PostgresDatabase.open(url, write_lock=REGISTRY_STORE.write_lock),
            await PostgresDatabase.open(url, write_lock=REGISTRY_STORE.write_lock),
        )
