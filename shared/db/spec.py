"""What the toolkit knows of one service's store: its name and where its migrations live."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["StoreSpec"]


@dataclass(frozen=True, slots=True)
class StoreSpec:
    """One service's store.

    `name` names the store's locks, so that services sharing one PostgreSQL schema never
    wait for each other; `migrations` is the package holding `<dialect>/NNNN_name.sql`;
    `migrations_table` records which of them were applied (one per service in a shared
    schema).
    """

    name: str
    migrations: str
    migrations_table: str = "schema_migrations"

    @property
    def write_lock(self) -> str:
        """Held by every write transaction on PostgreSQL, from its start to its end."""
        return f"{self.name}-writes"

    @property
    def migration_lock(self) -> str:
        """Held while migrating: two replicas starting at once migrate one after another."""
        return f"{self.name}-migrations"
