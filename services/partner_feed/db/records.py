"""Partner records as last imported: the basis of new / changed / removed detection.

Rows are written from an import's staging table once the import's file was read to the
end (see `db/staging.py`); here are the reads change detection needs and the removal.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiosqlite

_CHUNK = 500


class RecordTable:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def _by_id(self, column: str, partner: str, record_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(record_ids))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            async with self._db.execute(
                f"SELECT record_id, {column} FROM partner_records "
                f"WHERE partner = ? AND record_id IN ({marks})",
                (partner, *chunk),
            ) as cursor:
                found.update((row[0], row[1]) for row in await cursor.fetchall())
        return found

    async def hashes(self, partner: str, record_ids: Sequence[str]) -> dict[str, str]:
        """The stored content hash of each id the partner has a record for."""
        return await self._by_id("content_hash", partner, record_ids)

    async def documents(self, partner: str, record_ids: Sequence[str]) -> dict[str, str]:
        """The stored JSON document of each id the partner has a record for."""
        return await self._by_id("record", partner, record_ids)

    async def delete(self, partner: str, record_ids: Sequence[str]) -> None:
        await self._db.executemany(
            "DELETE FROM partner_records WHERE partner = ? AND record_id = ?",
            [(partner, r) for r in record_ids],
        )
        await self._db.executemany(
            "DELETE FROM links WHERE partner = ? AND record_id = ?",
            [(partner, r) for r in record_ids],
        )
