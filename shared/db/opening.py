"""Open a service's store: PostgreSQL when a URL is configured, else a SQLite file."""

from __future__ import annotations

from pathlib import Path

from shared.db.database import Database
from shared.db.migrations import migrate
from shared.db.postgres import PostgresDatabase
from shared.db.spec import StoreSpec
from shared.db.sqlite import SqliteDatabase

__all__ = ["open_database"]


async def open_database(
    spec: StoreSpec,
    *,
    url: str | None,
    sqlite_path: Path | str,
    synchronous: str = "FULL",
) -> Database:
    """The store of `spec`, migrated to the current schema (under its migration lock).

    `url` (a service's `DATABASE_URL`) selects PostgreSQL; without one the store is the
    SQLite file at `sqlite_path`. Raises `RetryableError` when PostgreSQL cannot be
    reached or the file stays locked by another process.
    """
    db: Database
    if url:
        db = await PostgresDatabase.open(url, write_lock=spec.write_lock)
    else:
        db = await SqliteDatabase.open(sqlite_path, synchronous=synchronous)
    try:
        await migrate(db, spec)
    except BaseException:
        await db.close()
        raise
    return db
