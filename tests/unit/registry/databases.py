"""Fresh registry databases for tests: a new SQLite file, or a new PostgreSQL schema.

Each PostgreSQL database lives in a schema of its own (tests/support/postgres.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from services.registry.db.store import REGISTRY_STORE
from shared.db import Database, PostgresDatabase, SqliteDatabase, migrate
from tests.support.postgres import fresh_schema, postgres_url

DIALECTS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@asynccontextmanager
async def open_store(dialect: str, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database of `dialect`, private to the caller."""
    db: Database
    if dialect == "sqlite":
        db = await SqliteDatabase.open(tmp_path / "registry.db", synchronous="NORMAL")
        try:
            await migrate(db, REGISTRY_STORE)
            yield db
        finally:
            await db.close()
        return
    async with fresh_schema(postgres_url()) as url:
        db = await PostgresDatabase.open(
            url, write_lock=REGISTRY_STORE.write_lock, min_size=1, max_size=4
        )
        try:
            await migrate(db, REGISTRY_STORE)
            yield db
        finally:
            await db.close()
