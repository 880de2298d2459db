"""The tag store's behaviour suite: the same tests on the in-memory twin, on SQLite and on
PostgreSQL (`tag_store`, tests/unit/sdg_tagger/conftest.py); then what only a durable store
promises: it survives a restart, and replicas starting at once migrate it once."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from services.sdg_tagger.db import TAGGER_STORE, EmittedTable, TagStore
from services.sdg_tagger.emission import LastEmitted
from shared.db import Database, PostgresDatabase, SqliteDatabase, migrate
from tests.unit.sdg_tagger.stores import DURABLE, location, opened

ACTIVITY = "TA-2026-000001"


async def test_store_keeps_the_newest_version_and_remembers_withdrawals(
    tag_store: TagStore,
) -> None:
    assert await tag_store.last(ACTIVITY) is None
    await tag_store.record_emitted(ACTIVITY, 2, "abc", "e1")
    await tag_store.record_emitted(ACTIVITY, 1, "old", "e0")  # late: ignored
    assert await tag_store.last(ACTIVITY) == LastEmitted(2, "abc")
    await tag_store.record_emitted(ACTIVITY, 2, "xyz", "e2")  # same version: replaced
    assert await tag_store.last(ACTIVITY) == LastEmitted(2, "xyz")
    await tag_store.record_withdrawn(ACTIVITY, 3)
    await tag_store.record_emitted(ACTIVITY, 3, "late", "e3")
    last = await tag_store.last(ACTIVITY)
    assert last is not None
    assert last.withdrawn
    assert last.version == 3


async def test_a_withdrawal_outlives_newer_versions_and_ignores_older_ones(
    tag_store: TagStore,
) -> None:
    await tag_store.record_withdrawn(ACTIVITY, 3)
    await tag_store.record_emitted(ACTIVITY, 2, "older", "e2")  # older than the withdrawal
    assert await tag_store.last(ACTIVITY) == LastEmitted(3, "withdrawn", withdrawn=True)
    await tag_store.record_emitted(ACTIVITY, 4, "newer", "e4")
    assert await tag_store.last(ACTIVITY) == LastEmitted(4, "newer", withdrawn=True)
    await tag_store.record_withdrawn(ACTIVITY, 1)  # a replayed old withdrawal: ignored
    assert await tag_store.last(ACTIVITY) == LastEmitted(4, "newer", withdrawn=True)


async def test_activities_are_kept_apart(tag_store: TagStore) -> None:
    other = "TA-2026-000002"
    await tag_store.record_emitted(ACTIVITY, 5, "five", "e5")
    await tag_store.record_withdrawn(other, 1)
    assert await tag_store.last(ACTIVITY) == LastEmitted(5, "five")
    assert await tag_store.last(other) == LastEmitted(1, "withdrawn", withdrawn=True)
    assert await tag_store.last("TA-2026-000003") is None


@pytest.mark.parametrize("kind", DURABLE)
async def test_a_durable_store_survives_a_restart(kind: str, tmp_path: Path) -> None:
    async with location(kind, tmp_path) as (url, path):
        async with opened(url, path) as db:
            assert await db.ping()
            store = EmittedTable(db)
            await store.record_emitted(ACTIVITY, 2, "abc", "e1")
            await store.record_withdrawn(ACTIVITY, 3)
        async with opened(url, path) as db:
            last = await EmittedTable(db).last(ACTIVITY)
            assert last is not None
            assert (last.version, last.withdrawn) == (3, True)


async def _raw(url: str | None, path: Path) -> Database:
    if url is None:
        return await SqliteDatabase.open(path)
    return await PostgresDatabase.open(url, write_lock=TAGGER_STORE.write_lock)


@pytest.mark.parametrize("kind", DURABLE)
async def test_two_replicas_starting_at_once_migrate_once(kind: str, tmp_path: Path) -> None:
    async with location(kind, tmp_path) as (url, path):
        path.parent.mkdir(parents=True, exist_ok=True)
        first, second = await _raw(url, path), await _raw(url, path)
        try:
            results = await asyncio.gather(
                migrate(first, TAGGER_STORE), migrate(second, TAGGER_STORE)
            )
            assert sorted(results) == [[], ["0001_emitted.sql"]]
            assert await migrate(second, TAGGER_STORE) == []
            await EmittedTable(first).record_emitted(ACTIVITY, 1, "one", "e1")
            assert await EmittedTable(second).last(ACTIVITY) == LastEmitted(1, "one")
        finally:
            await first.close()
            await second.close()


async def test_a_store_made_before_migrations_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "tags.db"
    legacy = sqlite3.connect(path)
    legacy.executescript(
        "CREATE TABLE emitted (activity_id TEXT PRIMARY KEY, version INTEGER NOT NULL,"
        " fingerprint TEXT NOT NULL, withdrawn INTEGER NOT NULL DEFAULT 0, event_id TEXT,"
        " updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);"
        f"INSERT INTO emitted (activity_id, version, fingerprint) VALUES ('{ACTIVITY}', 7, 'p');"
    )
    legacy.close()
    async with opened(None, path) as db:
        assert await EmittedTable(db).last(ACTIVITY) == LastEmitted(7, "p")
