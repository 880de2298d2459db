"""Opening the store: one SQLite file in WAL mode, migrated on first use.

The schema is versioned (`services/partner_feed/migrations/`) and applied by the store
toolkit (`shared.db.migrate`) under its lock, so two processes opening one file at once
migrate it once.

Writers (the import pipeline, the feed-view consumer) each hold their own connection and
serialise their transactions with a lock; feed requests read on a fresh connection so a
streamed response sees one consistent snapshot.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from services.partner_feed.db.store import FEED_STORE
from shared.db import SqliteDatabase, migrate


async def connect(path: str, *, create: bool = False) -> aiosqlite.Connection:
    """A connection in WAL mode with a busy timeout; `create` also applies the schema."""
    if create:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        await _migrate(path)
    db = await aiosqlite.connect(path)
    db.row_factory = aiosqlite.Row
    await db.execute("PRAGMA busy_timeout=10000")
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA synchronous=NORMAL")
    if create:
        await _add_missing_columns(db)
        await db.commit()
    return db


async def _migrate(path: str) -> None:
    """Apply partner-feed's migrations to the file (through the toolkit's SQLite adapter,
    which waits for another process migrating it)."""
    db = await SqliteDatabase.open(path, synchronous="NORMAL")
    try:
        await migrate(db, FEED_STORE)
    finally:
        await db.close()


_ADDED_COLUMNS = {"imports": {"progress": "TEXT"}, "import_staging": {"findings": "TEXT"}}
"""Columns added before partner-feed had migrations: stores older still get them on open."""


async def _add_missing_columns(db: aiosqlite.Connection) -> None:
    for table, columns in _ADDED_COLUMNS.items():
        async with db.execute(f"PRAGMA table_info({table})") as cursor:
            present = {row[1] for row in await cursor.fetchall()}
        for name, kind in columns.items():
            if name not in present:
                await db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


class Store:
    """The store's writer connection and its transaction lock."""

    def __init__(self, path: str, db: aiosqlite.Connection) -> None:
        self.path = path
        self.db = db
        self.lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str) -> Store:
        return cls(path, await connect(path, create=True))

    async def close(self) -> None:
        await self.db.close()

    async def ping(self) -> bool:
        async with self.db.execute("SELECT 1") as cursor:
            return await cursor.fetchone() is not None

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[aiosqlite.Connection]:
        """A read-only connection of its own, closed on exit."""
        db = await connect(self.path)
        try:
            yield db
        finally:
            await db.close()
