"""partner-feed's schema is migrated by the store toolkit: once, under its lock, keeping
what stores made before migrations (and before the later columns) already hold."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from services.partner_feed.db.database import Store


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def test_two_stores_opening_a_new_file_at_once_migrate_it_once(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "feed.db"
    stores = await asyncio.gather(Store.open(str(path)), Store.open(str(path)))
    try:
        assert all([await store.ping() for store in stores])
    finally:
        for store in stores:
            await store.close()
    applied = _rows(path, "SELECT name FROM partner_feed_migrations")
    assert applied == [("0001_tables.sql",)]
    tables = {r[0] for r in _rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"imports", "import_staging", "partner_records", "links", "feed_activities"} <= tables


async def test_a_store_from_before_migrations_keeps_its_rows_and_gains_columns(
    tmp_path: Path,
) -> None:
    path = tmp_path / "feed.db"
    legacy = sqlite3.connect(path)
    legacy.executescript(
        "CREATE TABLE imports (id TEXT PRIMARY KEY, partner TEXT NOT NULL, format TEXT NOT NULL,"
        " channel TEXT NOT NULL, status TEXT NOT NULL, received_at TEXT NOT NULL,"
        " finished_at TEXT, bytes INTEGER NOT NULL, summary TEXT);"
        "INSERT INTO imports (id, partner, format, channel, status, received_at, bytes)"
        " VALUES ('imp-1', 'p1', 'csv', 'upload', 'done', '2026-01-01T00:00:00+00:00', 10);"
    )
    legacy.close()
    store = await Store.open(str(path))
    await store.close()
    assert _rows(path, "SELECT id, progress FROM imports") == [("imp-1", None)]
    assert _rows(path, "SELECT COUNT(*) FROM partner_feed_migrations") == [(1,)]
