"""partner-feed's store as the toolkit (`shared.db`) knows it: its locks and migrations.

Only the SQLite migrations exist so far: the tables still take aiosqlite connections
(`database.Store`), not the toolkit's `Database` port.
"""

from __future__ import annotations

from shared.db import StoreSpec

__all__ = ["FEED_STORE"]

FEED_STORE = StoreSpec(
    name="partner-feed",
    migrations="services.partner_feed.migrations",
    migrations_table="partner_feed_migrations",
)
