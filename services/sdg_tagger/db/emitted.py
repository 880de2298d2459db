"""The tag store in SQL (`emitted`), on either engine of the toolkit (`shared.db`)."""

from __future__ import annotations

from services.sdg_tagger.db.port import WITHDRAWN_PRINT
from services.sdg_tagger.emission import LastEmitted
from shared.db import Database

__all__ = ["EmittedTable"]

# Portable SQL: both engines take `ON CONFLICT … DO UPDATE … WHERE` and `excluded`.
_UPSERT = """
INSERT INTO emitted (activity_id, version, fingerprint, withdrawn, event_id)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (activity_id) DO UPDATE SET
    version = excluded.version,
    fingerprint = excluded.fingerprint,
    withdrawn = CASE WHEN emitted.withdrawn = 1 THEN 1 ELSE excluded.withdrawn END,
    event_id = COALESCE(excluded.event_id, emitted.event_id),
    updated_at = CURRENT_TIMESTAMP
WHERE excluded.version >= emitted.version
"""

_LAST = "SELECT version, fingerprint, withdrawn FROM emitted WHERE activity_id = ?"


class EmittedTable:
    """The `TagStore` on a migrated `Database`; errors as the adapters raise them
    (`RetryableError` for a busy or unreachable engine, which the consumer retries)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def last(self, activity_id: str) -> LastEmitted | None:
        row = await self._db.point_read(_LAST, (activity_id,))
        if row is None:
            return None
        return LastEmitted(version=int(row[0]), fingerprint=str(row[1]), withdrawn=bool(row[2]))

    async def record_emitted(
        self, activity_id: str, version: int, fingerprint: str, event_id: str
    ) -> None:
        await self._write((activity_id, version, fingerprint, 0, event_id))

    async def record_withdrawn(self, activity_id: str, version: int) -> None:
        await self._write((activity_id, version, WITHDRAWN_PRINT, 1, None))

    async def _write(self, row: tuple[str, int, str, int, str | None]) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(_UPSERT, row)
