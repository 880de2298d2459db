"""The notifier's SQLite file: batched writes on the event loop, reads on a worker thread.

Measured under the webhook burst (see the bench note): with aiosqlite every statement,
fetch and commit was a hop to its thread, and while the event loop is busy sending
webhooks each hop waits for the GIL, up to the 5 ms switch interval, once per statement
and again per row stepped (``executemany``, ``RETURNING``). A 20-delivery transaction took
30-60 ms that way and the consumer waited behind it. The same transaction run directly is
about a millisecond of CPU (WAL with ``synchronous=NORMAL`` does not fsync on commit).

So writes, which the dispatcher batches (one transaction per batch, see
:mod:`~services.notifier.write_behind`), run as one plain function on the writer connection,
on the loop, atomically with respect to every other task. Reads that can be large (the
partner API's listings, delivery statistics, lanes resumed after a restart) run on a second
connection on a worker thread; WAL lets it read the last committed state while the writer
writes, and every write has committed before its coroutine returns, so readers see their
own writes. Only the writer connection writes, so the two never wait on SQLite's write lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
_WRITER_BUSY_MS = 250


def _connect(path: str | Path, *, busy_ms: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA busy_timeout={busy_ms:d}")
    return conn


class SqliteDb:
    """Use :meth:`open`, then :meth:`transaction` / :meth:`read`, then :meth:`close`."""

    def __init__(
        self,
        writer: sqlite3.Connection,
        reader: sqlite3.Connection,
        executor: ThreadPoolExecutor,
        *,
        path: Path | None = None,
    ) -> None:
        self.path = path
        """The file, when opened by :meth:`open`."""
        self._writer = writer
        self._reader = reader
        self._executor = executor

    @classmethod
    async def open(cls, path: str | Path, *, schema: str = "") -> SqliteDb:
        """Open (creating if needed) the file in WAL mode and run ``schema`` (a script)."""
        # Nothing else writes the file, so the writer never waits for the lock in normal
        # operation; should something (an operator's sqlite3 shell) hold it, the loop is
        # blocked at most this long and the write fails, to be retried by its caller.
        writer = _connect(path, busy_ms=_WRITER_BUSY_MS)
        if schema:
            writer.executescript(schema)
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notifier-sqlite")
        reader = await asyncio.get_running_loop().run_in_executor(
            executor, partial(_connect, path, busy_ms=5000)
        )
        return cls(writer, reader, executor, path=Path(path))

    async def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in one transaction on the writer: committed if it returns, rolled
        back if it raises. It runs on the loop, so keep it to a batch of statements."""
        conn = self._writer
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` (reads only) on the reader connection's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, work, self._reader)

    async def compact(self) -> None:
        """Rewrite the file without free pages and empty the WAL, so nothing deleted or
        overwritten survives on disk (used after sealing plain-text secrets)."""
        self._writer.execute("VACUUM")
        self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def close(self) -> None:
        await self.read(lambda conn: conn.close())
        self._executor.shutdown(wait=True)
        self._writer.close()
