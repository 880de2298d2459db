"""Partner records as last imported: the basis of new / changed / removed detection."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class StoredRecord:
    record_id: str
    content_hash: str
    record: str
    last_import: str


@dataclass(frozen=True, slots=True)
class RecordWrite:
    record_id: str
    content_hash: str
    record: str


class RecordTable:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def lookup(self, partner: str, record_ids: Sequence[str]) -> dict[str, StoredRecord]:
        found: dict[str, StoredRecord] = {}
        unique = list(dict.fromkeys(record_ids))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            async with self._db.execute(
                "SELECT record_id, content_hash, record, last_import FROM partner_records "
                f"WHERE partner = ? AND record_id IN ({marks})",
                (partner, *chunk),
            ) as cursor:
                for row in await cursor.fetchall():
                    found[row[0]] = StoredRecord(row[0], row[1], row[2], row[3])
        return found

    async def upsert(self, partner: str, import_id: str, writes: Sequence[RecordWrite]) -> None:
        await self._db.executemany(
            "INSERT INTO partner_records (partner, record_id, content_hash, record, last_import) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (partner, record_id) DO UPDATE SET "
            "content_hash = excluded.content_hash, record = excluded.record, "
            "last_import = excluded.last_import",
            [(partner, w.record_id, w.content_hash, w.record, import_id) for w in writes],
        )

    async def touch(self, partner: str, import_id: str, record_ids: Sequence[str]) -> None:
        """Mark records as present in `import_id` without changing them."""
        await self._db.executemany(
            "UPDATE partner_records SET last_import = ? WHERE partner = ? AND record_id = ?",
            [(import_id, partner, r) for r in record_ids],
        )

    async def absent_from(self, partner: str, import_id: str) -> list[StoredRecord]:
        """Records of `partner` the import `import_id` did not mention."""
        async with self._db.execute(
            "SELECT record_id, content_hash, record, last_import FROM partner_records "
            "WHERE partner = ? AND last_import != ? ORDER BY record_id",
            (partner, import_id),
        ) as cursor:
            return [StoredRecord(r[0], r[1], r[2], r[3]) for r in await cursor.fetchall()]

    async def delete(self, partner: str, record_ids: Sequence[str]) -> None:
        await self._db.executemany(
            "DELETE FROM partner_records WHERE partner = ? AND record_id = ?",
            [(partner, r) for r in record_ids],
        )
        await self._db.executemany(
            "DELETE FROM links WHERE partner = ? AND record_id = ?",
            [(partner, r) for r in record_ids],
        )
