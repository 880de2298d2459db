"""PostgreSQL adapter on an asyncpg pool; `?` placeholders become `$n`."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

import asyncpg

from services.registry.db.database import Connection, Dialect, Params, Row
from shared import RetryableError


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


class PostgresDatabase:
    dialect: Dialect = "postgres"

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str, *, min_size: int = 1, max_size: int = 10) -> PostgresDatabase:
        try:
            pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size)
        except (OSError, asyncpg.PostgresError) as exc:
            raise RetryableError(f"cannot reach PostgreSQL: {exc}") from exc
        return cls(pool)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield _PgConnection(conn)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        async with self._pool.acquire() as conn:
            yield _PgConnection(conn)

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
