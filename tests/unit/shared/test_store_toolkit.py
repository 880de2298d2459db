"""The store toolkit (`shared.db`) beyond what each service's store suite shows: services
sharing one PostgreSQL schema keep their migrations and locks apart, and the SQLite adapter
turns a busy file into a `RetryableError` while leaving real faults as they are."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from services.registry.db.store import REGISTRY_STORE
from services.sdg_tagger.db import TAGGER_STORE, EmittedTable
from services.sdg_tagger.emission import LastEmitted
from shared import RetryableError
from shared.db import StoreSpec, open_database
from shared.db.sqlite import translated
from tests.support.postgres import fresh_schema, postgres_url


def test_each_store_names_its_own_locks() -> None:
    spec = StoreSpec(name="feed", migrations="unused")
    assert (spec.write_lock, spec.migration_lock) == ("feed-writes", "feed-migrations")
    assert REGISTRY_STORE.write_lock == "registry-writes"  # the lock replicas already take
    assert REGISTRY_STORE.migrations_table != TAGGER_STORE.migrations_table


@pytest.mark.postgres
async def test_two_services_in_one_schema_migrate_their_own_tables() -> None:
    async with fresh_schema(postgres_url()) as url:
        registry = await open_database(REGISTRY_STORE, url=url, sqlite_path="unused")
        tagger = await open_database(TAGGER_STORE, url=url, sqlite_path="unused")
        try:
            applied = await registry.point_read("SELECT COUNT(*) FROM schema_migrations")
            assert applied is not None
            assert applied[0] >= 2
            tagged = await tagger.point_read("SELECT name FROM sdg_tagger_migrations")
            assert tagged == ("0001_emitted.sql",)
            await EmittedTable(tagger).record_emitted("TA-2026-000001", 1, "p", "e1")
            assert await EmittedTable(registry).last("TA-2026-000001") == LastEmitted(1, "p")
        finally:
            await registry.close()
            await tagger.close()


def test_a_busy_file_is_retryable_and_a_broken_statement_is_not(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    holder = sqlite3.connect(path, isolation_level=None)
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(sqlite3.OperationalError) as busy:
            other.execute("BEGIN IMMEDIATE")
        assert isinstance(translated(busy.value), RetryableError)
        holder.execute("ROLLBACK")
        with pytest.raises(sqlite3.OperationalError) as broken:
            other.execute("SELECT * FROM no_such_table")
        assert translated(broken.value) is broken.value
    finally:
        holder.close()
        other.close()
