"""The database port every service's store is written against.

SQL is written once, with `?` placeholders; each adapter (SQLite, PostgreSQL) translates
what it must, and turns a busy or unreachable engine into `RetryableError`. Writes happen
inside `transaction()`; plain reads use `read()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Protocol

__all__ = ["Connection", "Database", "Dialect", "Params", "Row"]

Row = Sequence[Any]
Params = Sequence[Any]
Dialect = Literal["sqlite", "postgres"]


class Connection(Protocol):
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; return the number of rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Sequence[Params]) -> None: ...
    async def fetch(self, sql: str, params: Params = ()) -> list[Row]: ...
    async def fetchrow(self, sql: str, params: Params = ()) -> Row | None: ...
    async def serialise(self, name: str) -> None:
        """Within a write transaction: hold the lock `name` until it ends, so that the
        transactions taking it commit in the order they took it."""
        ...


class Database(Protocol):
    dialect: Dialect

    def transaction(self) -> AbstractAsyncContextManager[Connection]:
        """A connection in a transaction: committed (durably) on normal exit, rolled back
        on error. Concurrent transactions may share one commit (group commit); each still
        succeeds or fails on its own."""
        ...

    def exclusive(self, name: str) -> AbstractAsyncContextManager[Connection]:
        """A transaction of its own, run by one process at a time across every replica
        sharing the store (held under the lock `name`): for migrations."""
        ...

    def read(self) -> AbstractAsyncContextManager[Connection]:
        """A connection for reads outside any write transaction."""
        ...

    async def point_read(self, sql: str, params: Params = ()) -> Row | None:
        """One row by an index, outside any write transaction, as cheaply as the store
        allows (SQLite: inline, without a hop to the reader's thread): for look-ups made by
        every request, like the API key's."""
        ...

    def leader(self, name: str) -> AbstractAsyncContextManager[bool]:
        """Hold a cluster-wide lock while inside; yields False when another holder has it."""
        ...

    async def ping(self) -> bool: ...
    async def close(self) -> None: ...
