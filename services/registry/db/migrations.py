"""Versioned schema migrations: `migrations/<dialect>/NNNN_name.sql`, applied in order, once."""

from __future__ import annotations

from importlib import resources

from services.registry.db.database import Database


def available(dialect: str) -> list[tuple[int, str, str]]:
    """(version, name, sql) of every migration shipped for `dialect`, in order."""
    folder = resources.files("services.registry.migrations").joinpath(dialect)
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


async def migrate(db: Database) -> list[str]:
    """Apply the migrations not yet applied; return the names applied now.

    Under a store-wide lock (an advisory lock on PostgreSQL, an exclusive transaction on
    SQLite): when two replicas start at once, one migrates and the other waits, then finds
    nothing left to do.
    """
    async with db.exclusive("registry-migrations") as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        rows = await conn.fetch("SELECT version FROM schema_migrations")
        done = {int(r[0]) for r in rows}
        applied = []
        for version, name, sql in available(db.dialect):
            if version in done:
                continue
            for statement in (s.strip() for s in sql.split(";")):
                if statement:
                    await conn.execute(statement)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at)"
                " VALUES (?, ?, CURRENT_TIMESTAMP)",
                (version, name),
            )
            applied.append(name)
    return applied
