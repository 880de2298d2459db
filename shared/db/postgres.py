"""PostgreSQL adapter on an asyncpg pool; `?` placeholders become `$n`.

Writes share transactions by group commit (shared/db/group_commit.py): each
group takes one pooled connection, so one replica has one write transaction open at a
time and pays one commit (one WAL flush) for every write the group holds.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

import asyncpg

from shared._errors import RetryableError
from shared.db.database import Connection, Dialect, Params, Row
from shared.db.group_commit import GroupCommit

__all__ = ["PostgresDatabase", "lock_key", "to_numbered"]


# Failures that pass: another try may succeed (a lost connection, a deadlock victim, a
# serialisation failure, a server shutting down).
PASSING: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
)


def lock_key(name: str) -> int:
    """A signed 32-bit key for `name`, for the two-key advisory lock functions."""
    return zlib.crc32(name.encode()) - 2**31


@lru_cache(maxsize=512)
def to_numbered(sql: str) -> str:
    """Rewrite `?` placeholders as `$1, $2, …` (our SQL has no `?` inside literals)."""
    parts = sql.split("?")
    out = [parts[0]]
    for i, part in enumerate(parts[1:], start=1):
        out.append(f"${i}{part}")
    return "".join(out)


class _PgConnection:
    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._held: set[str] = set()

    async def serialise(self, name: str) -> None:
        """Hold the lock `name` until this transaction ends: transactions that take it
        run the rest of their work, and commit, one after another. The lock is per schema,
        so stores in different schemas of one server do not wait for each other."""
        if name not in self._held:
            await self._conn.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))", lock_key(name)
            )
            self._held.add(name)

    async def execute(self, sql: str, params: Params = ()) -> int:
        try:
            status: str = await self._conn.execute(to_numbered(sql), *params)
        except PASSING as exc:
            raise RetryableError(f"PostgreSQL: {exc}") from exc
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        try:
            await self._conn.executemany(to_numbered(sql), rows)
        except PASSING as exc:
            raise RetryableError(f"PostgreSQL: {exc}") from exc

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        try:
            rows = await self._conn.fetch(to_numbered(sql), *params)
        except PASSING as exc:
            raise RetryableError(f"PostgreSQL: {exc}") from exc
        return [tuple(r) for r in rows]

    async def fetchrow(self, sql: str, params: Params = ()) -> Row | None:
        try:
            row = await self._conn.fetchrow(to_numbered(sql), *params)
        except PASSING as exc:
            raise RetryableError(f"PostgreSQL: {exc}") from exc
        return tuple(row) if row is not None else None


class _PgGroupBackend:
    """One pooled connection and transaction per group, holding the write lock."""

    def __init__(self, pool: Any, write_lock: str) -> None:
        self._pool = pool
        self._write_lock = write_lock
        self._conn: Any = None
        self._transaction: Any = None
        self.connection: _PgConnection | None = None

    async def begin(self) -> None:
        try:
            self._conn = await self._pool.acquire()
            self._transaction = self._conn.transaction()
            await self._transaction.start()
            self.connection = _PgConnection(self._conn)
            await self.connection.serialise(self._write_lock)
        except PASSING as exc:
            await self._put_back()
            raise RetryableError(f"PostgreSQL: {exc}") from exc
        except BaseException:
            await self._put_back()
            raise

    async def savepoint(self) -> None:
        await self._conn.execute("SAVEPOINT member")

    async def release(self) -> None:
        await self._conn.execute("RELEASE SAVEPOINT member")

    async def rollback_to_savepoint(self) -> bool:
        if self._conn is None or self._conn.is_closed():
            return False
        await self._conn.execute("ROLLBACK TO SAVEPOINT member")
        await self._conn.execute("RELEASE SAVEPOINT member")
        return True

    async def commit(self) -> None:
        try:
            await self._transaction.commit()
        finally:
            await self._put_back()

    async def rollback(self) -> None:
        try:
            if self._transaction is not None and not self._conn.is_closed():
                await self._transaction.rollback()
        finally:
            await self._put_back()

    async def _put_back(self) -> None:
        conn, self._conn, self._transaction, self.connection = self._conn, None, None, None
        if conn is not None:
            await self._pool.release(conn)


class PostgresDatabase:
    """PostgreSQL shared by every replica of a service.

    Every write transaction holds the lock `write_lock` (`Connection.serialise`) from its
    start to its end: write transactions of all replicas then run one after another, so
    rows commit in the order their sequence numbers were drawn, and two groups of writes
    can never deadlock on each other's row locks.
    """

    dialect: Dialect = "postgres"

    def __init__(self, pool: Any, *, write_lock: str) -> None:
        self._pool = pool
        self._write_lock = write_lock
        self._backend = _PgGroupBackend(pool, write_lock)
        self.group = GroupCommit(self._backend)

    @classmethod
    async def open(
        cls, url: str, *, write_lock: str, min_size: int = 1, max_size: int = 10
    ) -> PostgresDatabase:
        """Raises `RetryableError` when the server cannot be reached."""
        try:
            pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size)
        except (OSError, asyncpg.PostgresError) as exc:
            raise RetryableError(f"cannot reach PostgreSQL: {exc}") from exc
        return cls(pool, write_lock=write_lock)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self.group.transaction():
            assert self._backend.connection is not None
            yield self._backend.connection

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[Connection]:
        """A transaction of its own that first waits for the lock `name` (per schema), so
        that two replicas running it at once run it one after the other; then for the
        write lock, so that no write runs beside it."""
        async with self._pool.acquire() as conn, conn.transaction():
            wrapped = _PgConnection(conn)
            await wrapped.serialise(name)
            await wrapped.serialise(self._write_lock)
            yield wrapped

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        async with self._pool.acquire() as conn:
            yield _PgConnection(conn)

    async def point_read(self, sql: str, params: Params = ()) -> Row | None:
        async with self.read() as conn:
            return await conn.fetchrow(sql, params)

    @asynccontextmanager
    async def leader(self, name: str) -> AsyncIterator[bool]:
        """A session advisory lock: one replica at a time does the work it guards."""
        lock_id = zlib.crc32(name.encode())
        async with self._pool.acquire() as conn:
            got = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_id))
            try:
                yield got
            finally:
                if got:
                    await conn.execute("SELECT pg_advisory_unlock($1)", lock_id)

    async def ping(self) -> bool:
        async with self._pool.acquire() as conn:
            return bool(await conn.fetchval("SELECT 1"))

    async def close(self) -> None:
        await self._pool.close()
