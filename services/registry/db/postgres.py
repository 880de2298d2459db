"""PostgreSQL adapter on an asyncpg pool; `?` placeholders become `$n`.

Writes share transactions by group commit (services/registry/db/group_commit.py): each
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

from services.registry.db.database import WRITE_LOCK, Connection, Dialect, Params, Row
from services.registry.db.group_commit import GroupCommit
from shared import RetryableError


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
        status: str = await self._conn.execute(to_numbered(sql), *params)
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        await self._conn.executemany(to_numbered(sql), rows)

    async def fetch(self, sql: str, params: Params = ()) -> list[Row]:
        return [tuple(r) for r in await self._conn.fetch(to_numbered(sql), *params)]

    async def fetchrow(self, sql: str, params: Params = ()) -> Row | None:
        row = await self._conn.fetchrow(to_numbered(sql), *params)
        return tuple(row) if row is not None else None


class _PgGroupBackend:
    """One pooled connection and transaction per group, holding the write lock."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self._conn: Any = None
        self._transaction: Any = None
        self.connection: _PgConnection | None = None

    async def begin(self) -> None:
        try:
            self._conn = await self._pool.acquire()
            self._transaction = self._conn.transaction()
            await self._transaction.start()
            self.connection = _PgConnection(self._conn)
            await self.connection.serialise(WRITE_LOCK)
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
    dialect: Dialect = "postgres"

    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self._backend = _PgGroupBackend(pool)
        self.group = GroupCommit(self._backend)

    @classmethod
    async def open(cls, url: str, *, min_size: int = 1, max_size: int = 10) -> PostgresDatabase:
        try:
            pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size)
        except (OSError, asyncpg.PostgresError) as exc:
            raise RetryableError(f"cannot reach PostgreSQL: {exc}") from exc
        return cls(pool)

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
            await wrapped.serialise(WRITE_LOCK)
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
        """A session advisory lock: only one replica relays the outbox at a time."""
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
