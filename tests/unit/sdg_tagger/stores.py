"""Fresh tag stores for tests: the in-memory twin, a new SQLite file, a new PostgreSQL schema.

The PostgreSQL kind needs `TEST_DATABASE_URL`; each store lives in a schema of its own
(tests/support/postgres.py), dropped on exit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from services.sdg_tagger.db import TAGGER_STORE, EmittedTable, MemoryTagStore, TagStore
from shared.db import Database, open_database
from tests.support.postgres import fresh_schema, postgres_url

KINDS = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
DURABLE = [p for p in KINDS if p.values != ("memory",)]


@asynccontextmanager
async def location(kind: str, tmp_path: Path) -> AsyncIterator[tuple[str | None, Path]]:
    """Where a durable store of `kind` lives: (a PostgreSQL URL or None, a SQLite path)."""
    if kind == "postgres":
        async with fresh_schema(postgres_url()) as url:
            yield url, tmp_path / "unused.db"
        return
    yield None, tmp_path / "nested" / "tags.db"


@asynccontextmanager
async def opened(url: str | None, path: Path) -> AsyncIterator[Database]:
    """The tagger's database at (`url`, `path`), migrated; closed on exit."""
    db = await open_database(TAGGER_STORE, url=url, sqlite_path=path)
    try:
        yield db
    finally:
        await db.close()


@asynccontextmanager
async def open_tag_store(kind: str, tmp_path: Path) -> AsyncIterator[TagStore]:
    """An empty tag store of `kind`, private to the caller."""
    if kind == "memory":
        yield MemoryTagStore()
        return
    async with location(kind, tmp_path) as (url, path), opened(url, path) as db:
        yield EmittedTable(db)
