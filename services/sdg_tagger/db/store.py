"""The tagger's store as the toolkit (`shared.db`) knows it, and how the service opens it."""

from __future__ import annotations

from services.sdg_tagger.settings import TaggerSettings
from shared.db import Database, StoreSpec, open_database

__all__ = ["TAGGER_STORE", "open_tagger_database"]

# Its own migrations table, so that it may share a PostgreSQL schema with another service.
TAGGER_STORE = StoreSpec(
    name="sdg-tagger",
    migrations="services.sdg_tagger.migrations",
    migrations_table="sdg_tagger_migrations",
)


async def open_tagger_database(settings: TaggerSettings) -> Database:
    """The configured store (PostgreSQL with `DATABASE_URL`, else SQLite at `db_path`),
    migrated. Raises `RetryableError` when PostgreSQL cannot be reached."""
    return await open_database(
        TAGGER_STORE, url=settings.database_url, sqlite_path=settings.db_path
    )
