"""The store toolkit every service's `db/` is written against.

A `Database` port with two adapters — SQLite (the embedded default) and PostgreSQL
(selected by a service's `DATABASE_URL`, for several replicas) — group commit, and
versioned migrations applied under a store-wide lock. Engine-specific SQL stays in the
adapters; a service's tables write `?` placeholders once.
"""

from shared.db.database import Connection, Database, Dialect, Params, Row
from shared.db.group_commit import GroupBackend, GroupCommit, GroupLost
from shared.db.migrations import available, migrate
from shared.db.opening import open_database
from shared.db.postgres import PostgresDatabase, lock_key, to_numbered
from shared.db.spec import StoreSpec
from shared.db.sqlite import SqliteDatabase

__all__ = [
    "Connection",
    "Database",
    "Dialect",
    "GroupBackend",
    "GroupCommit",
    "GroupLost",
    "Params",
    "PostgresDatabase",
    "Row",
    "SqliteDatabase",
    "StoreSpec",
    "available",
    "lock_key",
    "migrate",
    "open_database",
    "to_numbered",
]
