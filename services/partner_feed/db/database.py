"""Opening the store: one SQLite file in WAL mode, the schema created on first use.

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

SCHEMA = """
CREATE TABLE IF NOT EXISTS imports (
    id TEXT PRIMARY KEY,
    partner TEXT NOT NULL,
    format TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    received_at TEXT NOT NULL,
    finished_at TEXT,
    bytes INTEGER NOT NULL,
    summary TEXT,
    progress TEXT
);
CREATE INDEX IF NOT EXISTS imports_by_partner ON imports (partner, received_at);
CREATE TABLE IF NOT EXISTS import_entries (
    import_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    accepted INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (import_id, seq)
);
CREATE TABLE IF NOT EXISTS import_staging (
    import_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    content_hash TEXT,
    record TEXT,
    changed_fields TEXT,
    findings TEXT,
    PRIMARY KEY (import_id, record_id)
);
CREATE INDEX IF NOT EXISTS import_staging_by_seq ON import_staging (import_id, seq);
CREATE TABLE IF NOT EXISTS partner_records (
    partner TEXT NOT NULL,
    record_id TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    record TEXT NOT NULL,
    last_import TEXT NOT NULL,
    PRIMARY KEY (partner, record_id)
);
CREATE TABLE IF NOT EXISTS links (
    partner TEXT NOT NULL,
    record_id TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    confidence REAL NOT NULL,
    method TEXT NOT NULL,
    discrepancies TEXT NOT NULL,
    PRIMARY KEY (partner, record_id)
);
CREATE TABLE IF NOT EXISTS pull_state (
    partner TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    checked_at TEXT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feed_activities (
    activity_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL,
    state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS computed_tags (
    activity_id TEXT PRIMARY KEY,
    activity_version INTEGER NOT NULL,
    goals TEXT NOT NULL,
    targets TEXT NOT NULL
);
"""


async def connect(path: str, *, create: bool = False) -> aiosqlite.Connection:
    """A connection in WAL mode with a busy timeout; `create` also applies the schema."""
    if create:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = await aiosqlite.connect(path)
    db.row_factory = aiosqlite.Row
    await db.execute("PRAGMA busy_timeout=10000")
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute("PRAGMA synchronous=NORMAL")
    if create:
        await db.executescript(SCHEMA)
        await _add_missing_columns(db)
        await db.commit()
    return db


_ADDED_COLUMNS = {"imports": {"progress": "TEXT"}, "import_staging": {"findings": "TEXT"}}
"""Columns added after the table was first created: stores from before get them on open."""


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
