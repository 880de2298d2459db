"""The registry's store as the toolkit (`shared.db`) knows it: its locks and migrations."""

from __future__ import annotations

from services.registry.settings import RegistrySettings
from shared.db import Database, StoreSpec, open_database

__all__ = ["REGISTRY_STORE", "open_registry_database"]

REGISTRY_STORE = StoreSpec(name="registry", migrations="services.registry.migrations")


async def open_registry_database(settings: RegistrySettings) -> Database:
    """The configured store (PostgreSQL with `DATABASE_URL`, else SQLite), migrated."""
    return await open_database(
        REGISTRY_STORE,
        url=settings.database_url,
        sqlite_path=settings.sqlite_path,
        synchronous=settings.sqlite_synchronous,
    )
