"""The tagger's own store: the last tag result emitted per activity (SQLite).

One row per activity: the version it was last tagged at, the fingerprint of the result
emitted then, and whether the activity has been withdrawn since. Writes never move a row
back to an older version, so a late or replayed event cannot undo a newer one.

Several processes may share the file (the service and a replay run beside it): WAL mode
and a busy timeout let them take turns.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import aiosqlite

from services.sdg_tagger.emission import LastEmitted
from shared import RetryableError

__all__ = ["TagStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS emitted (
    activity_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    withdrawn INTEGER NOT NULL DEFAULT 0,
    event_id TEXT,
    updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
)
"""

_UPSERT = """
INSERT INTO emitted (activity_id, version, fingerprint, withdrawn, event_id)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (activity_id) DO UPDATE SET
    version = excluded.version,
    fingerprint = excluded.fingerprint,
    withdrawn = MAX(emitted.withdrawn, excluded.withdrawn),
    event_id = COALESCE(excluded.event_id, emitted.event_id),
    updated_at = CURRENT_TIMESTAMP
WHERE excluded.version >= emitted.version
"""

_WITHDRAWN_PRINT = "withdrawn"


@contextlib.contextmanager
def _retryable() -> Iterator[None]:
    """A locked or busy database is a passing failure: the consumer retries the event."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise RetryableError(f"tag store: {exc}") from exc


class TagStore:
    """Last emitted result per activity. Open with `TagStore.open(path)`; close when done."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: str | Path) -> TagStore:
        """Open (creating the file, its folder and the table when missing)."""
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path)
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA busy_timeout=5000")
            await db.execute(_SCHEMA)
            await db.commit()
        except BaseException:
            await db.close()
            raise
        return cls(db)

    async def close(self) -> None:
        await self._db.close()

    async def ping(self) -> bool:
        async with self._db.execute("SELECT 1") as cursor:
            return await cursor.fetchone() is not None

    async def last(self, activity_id: str) -> LastEmitted | None:
        with _retryable():
            async with self._db.execute(
                "SELECT version, fingerprint, withdrawn FROM emitted WHERE activity_id = ?",
                (activity_id,),
            ) as cursor:
                row = await cursor.fetchone()
        if row is None:
            return None
        return LastEmitted(version=int(row[0]), fingerprint=str(row[1]), withdrawn=bool(row[2]))

    async def record_emitted(
        self, activity_id: str, version: int, fingerprint: str, event_id: str
    ) -> None:
        """Remember an emission (after the broker acknowledged it)."""
        await self._write((activity_id, version, fingerprint, 0, event_id))

    async def record_withdrawn(self, activity_id: str, version: int) -> None:
        """Remember that the activity was withdrawn: later replays of it emit nothing."""
        await self._write((activity_id, version, _WITHDRAWN_PRINT, 1, None))

    async def _write(self, row: tuple[str, int, str, int, str | None]) -> None:
        with _retryable():
            try:
                await self._db.execute(_UPSERT, row)
                await self._db.commit()
            except BaseException:
                await self._db.rollback()
                raise
