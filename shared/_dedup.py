"""De-duplication on event id: the consumer skips an event whose effect already happened."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection
from pathlib import Path
from typing import Protocol, runtime_checkable

import aiosqlite

__all__ = ["BatchDedupStore", "DedupStore", "MemoryDedup", "SqliteDedup"]


class DedupStore(Protocol):
    """Remembers which event ids have had their effect, per consumer group."""

    async def seen(self, group: str, event_id: str) -> bool: ...
    async def mark(self, group: str, event_id: str) -> None: ...


@runtime_checkable
class BatchDedupStore(DedupStore, Protocol):
    """A store that also answers and records a whole batch at once (what the runner uses
    when it can: one query and one transaction a batch, not two per event)."""

    async def seen_many(self, group: str, event_ids: Collection[str]) -> set[str]: ...
    async def mark_many(self, group: str, event_ids: Collection[str]) -> None: ...


class MemoryDedup:
    """Bounded LRU of recent ids: protects against redelivery within one process's life."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._capacity = capacity
        self._ids: OrderedDict[tuple[str, str], None] = OrderedDict()

    async def seen(self, group: str, event_id: str) -> bool:
        key = (group, event_id)
        if key in self._ids:
            self._ids.move_to_end(key)
            return True
        return False

    async def mark(self, group: str, event_id: str) -> None:
        self._ids[(group, event_id)] = None
        if len(self._ids) > self._capacity:
            self._ids.popitem(last=False)

    async def seen_many(self, group: str, event_ids: Collection[str]) -> set[str]:
        ids = self._ids
        found = {event_id for event_id in event_ids if (group, event_id) in ids}
        for event_id in found:
            ids.move_to_end((group, event_id))
        return found

    async def mark_many(self, group: str, event_ids: Collection[str]) -> None:
        ids = self._ids
        for event_id in event_ids:
            ids[(group, event_id)] = None
        while len(ids) > self._capacity:
            ids.popitem(last=False)


class SqliteDedup:
    """Durable ids in a SQLite file: survives a crash between effect and offset commit."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: aiosqlite.Connection | None = None

    async def open(self) -> None:
        self._db = await aiosqlite.connect(self._path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute(
            "CREATE TABLE IF NOT EXISTS processed_events ("
            " consumer_group TEXT NOT NULL, event_id TEXT NOT NULL,"
            " processed_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,"
            " PRIMARY KEY (consumer_group, event_id))"
        )
        await self._db.commit()

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("SqliteDedup is not open")
        return self._db

    async def seen(self, group: str, event_id: str) -> bool:
        async with self._conn().execute(
            "SELECT 1 FROM processed_events WHERE consumer_group = ? AND event_id = ?",
            (group, event_id),
        ) as cursor:
            return await cursor.fetchone() is not None

    async def mark(self, group: str, event_id: str) -> None:
        db = self._conn()
        await db.execute(
            "INSERT OR IGNORE INTO processed_events (consumer_group, event_id) VALUES (?, ?)",
            (group, event_id),
        )
        await db.commit()

    async def seen_many(self, group: str, event_ids: Collection[str]) -> set[str]:
        wanted = list(dict.fromkeys(event_ids))
        found: set[str] = set()
        db = self._conn()
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))  # placeholders only: the ids are bound
            query = f"SELECT event_id FROM processed_events WHERE consumer_group = ? AND event_id IN ({marks})"  # noqa: E501, S608
            async with db.execute(
                query,
                (group, *chunk),
            ) as cursor:
                found.update(str(row[0]) for row in await cursor.fetchall())
        return found

    async def mark_many(self, group: str, event_ids: Collection[str]) -> None:
        if not event_ids:
            return
        db = self._conn()
        await db.executemany(
            "INSERT OR IGNORE INTO processed_events (consumer_group, event_id) VALUES (?, ?)",
            [(group, event_id) for event_id in event_ids],
        )
        await db.commit()


_CHUNK = 500  # ids per query: under SQLite's bound-parameter limit
