"""SQLite adapter: one writer connection shared by group commit, one reader, WAL mode.

Writes run on the event loop's thread, straight on the writer connection: with group commit
a statement touches only pages already in memory, so it takes microseconds, and a thread
hop per statement would cost more than the statement. Only what can wait on the disk or on
another process (BEGIN, which may meet a lock; COMMIT, which fsyncs) runs on the writer's
own thread, and while it does the loop goes on serving requests, which queue for the next
group. Reads run on their own connection in aiosqlite's thread; point reads that every
request makes (the API key) run inline on a third connection, falling back to the reader
if SQLite is ever busy.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from shared._errors import RetryableError
from shared.db.database import Connection, Dialect, Params, Row
from shared.db.group_commit import GroupCommit

__all__ = ["SqliteDatabase"]

MIGRATION_WAIT_SECONDS = 600.0


# Another process holds the file (a replay beside the service, a second replica
# migrating): a passing failure, which the caller may retry.
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


def translated(exc: sqlite3.OperationalError) -> Exception:
    """`RetryableError` for a busy or locked file; any other failure as it is."""
    if getattr(exc, "sqlite_errorcode", 0) & 0xFF in _BUSY_CODES:
        return RetryableError(f"database busy: {exc}")
    return exc


class _SqliteConnection:
    """The writer connection, used inline: every call returns without suspending."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        try:
            return self._conn.execute(sql, params).rowcount
        except sqlite3.OperationalError as exc:
            raise translated(exc) from exc

    async def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        try:
            self._conn.executemany(sql, rows)
        except sqlite3.OperationalError as exc:
            raise translated(exc) from exc

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise translated(exc) from exc

    async def fetchrow(self, sql: str, params: Params = ()) -> Row | None:
        try:
            row: Row | None = self._conn.execute(sql, params).fetchone()
        except sqlite3.OperationalError as exc:
            raise translated(exc) from exc
        return row

    async def serialise(self, name: str) -> None:
        """One writer holds the file's write lock for the whole transaction already."""


class _ReadConnection:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        try:
            cursor = await self._conn.execute(sql, params)
        except sqlite3.OperationalError as exc:
            raise translated(exc) from exc
        count = cursor.rowcount
        await cursor.close()
        return count

    async def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        try:
            await self._conn.executemany(sql, rows)
        except sqlite3.OperationalError as exc:
            raise translated(exc) from exc

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        try:
            async with self._conn.execute(sql, params) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.OperationalError as exc:
            raise translated(exc) from exc

    async def fetchrow(self, sql: str, params: Params = ()) -> Row | None:
        try:
            async with self._conn.execute(sql, params) as cursor:
                row = await cursor.fetchone()
        except sqlite3.OperationalError as exc:
            raise translated(exc) from exc
        return row

    async def serialise(self, name: str) -> None:
        raise RuntimeError("serialise() is for write transactions")


class _SqliteGroupBackend:
    def __init__(self, conn: sqlite3.Connection, run: Callable[[str], Any]) -> None:
        self._conn = conn
        self._run = run

    async def begin(self) -> None:
        try:
            await self._run("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise RetryableError(f"database busy: {exc}") from exc

    async def savepoint(self) -> None:
        self._conn.execute("SAVEPOINT member")

    async def release(self) -> None:
        self._conn.execute("RELEASE member")

    async def rollback_to_savepoint(self) -> bool:
        if not self._conn.in_transaction:
            return False  # SQLite rolled the whole transaction back (e.g. disk full)
        self._conn.execute("ROLLBACK TO member")
        self._conn.execute("RELEASE member")
        return True

    async def commit(self) -> None:
        try:
            await self._run("COMMIT")
        except sqlite3.OperationalError as exc:
            raise translated(exc) from exc

    async def rollback(self) -> None:
        if self._conn.in_transaction:
            await self._run("ROLLBACK")


class SqliteDatabase:
    """SQLite with durable commits (`synchronous=FULL` by default) in WAL mode.

    Writers share transactions by group commit (shared/db/group_commit.py);
    readers use their own connection and see the last committed state.
    """

    dialect: Dialect = "sqlite"

    def __init__(
        self,
        writer: sqlite3.Connection,
        reader: aiosqlite.Connection | None,
        *,
        path: str,
        inline_reader: sqlite3.Connection | None = None,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._inline_reader = inline_reader
        self._path = path
        self._read_lock = asyncio.Lock()
        # BEGIN and COMMIT run here, in order, one at a time.
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self.group = GroupCommit(_SqliteGroupBackend(writer, self._on_thread))

    @classmethod
    async def open(cls, path: Path | str, *, synchronous: str = "FULL") -> SqliteDatabase:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            for pragma in (
                "PRAGMA busy_timeout=5000",
                "PRAGMA journal_mode=WAL",
                f"PRAGMA synchronous={synchronous}",
                "PRAGMA foreign_keys=ON",
            ):
                conn.execute(pragma)
            return conn

        writer = await asyncio.to_thread(connect)
        reader = inline = None
        if str(path) != ":memory:":
            reader = await aiosqlite.connect(path, isolation_level=None)
            await reader.execute("PRAGMA busy_timeout=5000")
            # Never waits on the loop: a busy file sends the read to `reader` instead.
            inline = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            inline.execute("PRAGMA busy_timeout=0")
            inline.execute("PRAGMA query_only=ON")
        return cls(writer, reader, path=str(path), inline_reader=inline)

    async def _on_thread(self, sql: str) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._writer.execute, sql)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self.group.transaction():
            yield _SqliteConnection(self._writer)

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[Connection]:
        """A transaction of its own holding the file's write lock, waiting for another
        process that holds it (a second replica migrating) rather than failing."""
        async with self.group.alone():
            deadline = time.monotonic() + MIGRATION_WAIT_SECONDS
            while True:
                try:
                    await self._on_thread("BEGIN EXCLUSIVE")
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise RetryableError(f"database busy: {exc}") from exc
            try:
                yield _SqliteConnection(self._writer)
            except BaseException:
                await self._on_thread("ROLLBACK")
                raise
            await self._on_thread("COMMIT")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        if self._reader is None:  # one in-memory database: read through the writer
            async with self.transaction() as conn:
                yield conn
            return
        async with self._read_lock:
            yield _ReadConnection(self._reader)

    async def point_read(self, sql: str, params: Params = ()) -> Row | None:
        if self._inline_reader is not None:
            try:
                # Every row, so the statement ends and no read snapshot stays open.
                rows: list[Row] = self._inline_reader.execute(sql, params).fetchall()
            except sqlite3.OperationalError:
                pass  # busy (or locked): ask the reader, which may wait
            else:
                return rows[0] if rows else None
        async with self.read() as conn:
            return await conn.fetchrow(sql, params)

    @asynccontextmanager
    async def leader(self, name: str) -> AsyncIterator[bool]:
        # One process owns a SQLite file: it is always the leader.
        yield True

    async def ping(self) -> bool:
        async with self.read() as conn:
            return await conn.fetchrow("SELECT 1") is not None

    async def close(self) -> None:
        if self._inline_reader is not None:
            self._inline_reader.close()
        if self._reader is not None:
            await self._reader.close()
        async with self.group.alone():
            await self._on_thread("SELECT 1")  # whatever ran on the thread has finished
            self._writer.close()
        self._thread.shutdown(wait=True)
