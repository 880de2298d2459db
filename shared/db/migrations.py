"""Versioned schema migrations: `<package>/<dialect>/NNNN_name.sql`, applied in order, once."""

from __future__ import annotations

from importlib import resources

from shared.db.database import Database
from shared.db.spec import StoreSpec

__all__ = ["available", "migrate"]


def available(package: str, dialect: str) -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration `package` ships for `dialect`, in order."""
    folder = resources.files(package).joinpath(dialect)
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


async def migrate(db: Database, spec: StoreSpec) -> list[str]:
    """Apply the migrations of `spec` not yet applied; return the names applied now.

    Under a store-wide lock (an advisory lock on PostgreSQL, an exclusive transaction on
    SQLite): when two replicas start at once, one migrates and the other waits, then finds
    nothing left to do.
    """
    table = spec.migrations_table
    async with db.exclusive(spec.migration_lock) as conn:
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        rows = await conn.fetch(f"SELECT version FROM {table}")  # noqa: S608
        done = {int(r[0]) for r in rows}
        applied = []
        for version, name, sql in available(spec.migrations, db.dialect):
            if version in done:
                continue
            for statement in (s.strip() for s in sql.split(";")):
                if statement:
                    await conn.execute(statement)
            await conn.execute(
                f"INSERT INTO {table} (version, name, applied_at)"  # noqa: S608
                " VALUES (?, ?, CURRENT_TIMESTAMP)",
                (version, name),
            )
            applied.append(name)
    return applied
