"""SQLite adapter: one writer connection (serialised by a lock), one reader, WAL mode."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from services.registry.db.database import Connection, Dialect, Params, Row
from shared import RetryableError


class _SqliteConnection:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        cursor = await self._conn.execute(sql, params)
        count = cursor.rowcount
        await cursor.close()
        return count

    async def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        async with self._conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetchrow(self, sql: str, params: Params = ()) -> Row | None:
        async with self._conn.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return row


class SqliteDatabase:
    """SQLite with durable commits (`synchronous=FULL` by default) in WAL mode.

    Writers queue on one connection, so a transaction never interleaves with another;
    readers use their own connection and see the last committed state.
    """

    dialect: Dialect = "sqlite"

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()
        self._read_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str, *, synchronous: str = "FULL") -> SqliteDatabase:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        writer = await aiosqlite.connect(path, isolation_level=None)
        for pragma in (
            "PRAGMA journal_mode=WAL",
            f"PRAGMA synchronous={synchronous}",
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=5000",
        ):
            await writer.execute(pragma)
        reader = (
            await aiosqlite.connect(path, isolation_level=None)
            if str(path) != ":memory:"
            else writer
        )
        await reader.execute("PRAGMA busy_timeout=5000")
        return cls(writer, reader)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self._write_lock:
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
            except aiosqlite.OperationalError as exc:
                raise RetryableError(f"database busy: {exc}") from exc
            try:
                yield _SqliteConnection(self._writer)
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            await self._writer.execute("COMMIT")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        if self._reader is self._writer:
            async with self._write_lock:
                yield _SqliteConnection(self._reader)
            return
        async with self._read_lock:
            yield _SqliteConnection(self._reader)

    @asynccontextmanager
    async def leader(self, name: str) -> AsyncIterator[bool]:
        # One process owns a SQLite file: it is always the leader.
        yield True

    async def ping(self) -> bool:
        async with self.read() as conn:
            return await conn.fetchrow("SELECT 1") is not None

    async def close(self) -> None:
        if self._reader is not self._writer:
            await self._reader.close()
        await self._writer.close()
