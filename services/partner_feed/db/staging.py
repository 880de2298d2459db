"""An import's staged outcome: what the file said, held back until the whole file is read.

While parsing, one row per record id the import mentions: `new` / `changed` (with the
record), `unchanged`, or `quarantined` (a record the partner still sends, so it is not a
removal). Nothing is published and `partner_records` is untouched until the parse ended
without a fatal fault; publication then reads the rows back in `seq` order, a batch at a
time, so memory stays flat whatever the file's size. Rows go when the import ends, except
for an import whose removals are held for an operator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aiosqlite
import orjson

_CHUNK = 500
ACCEPTED = frozenset({"new", "changed", "unchanged"})


@dataclass(frozen=True, slots=True)
class StagedRow:
    record_id: str
    kind: str
    """new, changed, unchanged or quarantined."""
    content_hash: str | None = None
    record: str | None = None
    """The record's JSON document (new and changed only)."""
    changed_fields: tuple[str, ...] = ()
    findings: str | None = None
    """The record's findings as the events carry them (JSON list), None when clean."""


@dataclass(frozen=True, slots=True)
class StagedChange:
    seq: int
    record_id: str
    kind: str
    content_hash: str
    record: str
    changed_fields: tuple[str, ...]
    findings: list[dict[str, object]]


@dataclass(frozen=True, slots=True)
class Removal:
    record_id: str
    content_hash: str


class StagingTable:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def kinds(self, import_id: str, record_ids: Sequence[str]) -> dict[str, str]:
        """The staged kind of each id already mentioned by the import."""
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(record_ids))
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            async with self._db.execute(
                "SELECT record_id, kind FROM import_staging "
                f"WHERE import_id = ? AND record_id IN ({marks})",
                (import_id, *chunk),
            ) as cursor:
                found.update((row[0], row[1]) for row in await cursor.fetchall())
        return found

    async def stage(self, import_id: str, first_seq: int, rows: Sequence[StagedRow]) -> None:
        """Add rows, numbered in file order from `first_seq` (1 or more). An accepted record
        replaces a quarantined mention of its id, never the other way round (the caller has
        already turned accepted repeats into duplicates)."""
        await self._db.executemany(
            "INSERT INTO import_staging "
            "(import_id, record_id, seq, kind, content_hash, record, changed_fields, findings) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (import_id, record_id) DO UPDATE SET "
            "seq = excluded.seq, kind = excluded.kind, content_hash = excluded.content_hash, "
            "record = excluded.record, changed_fields = excluded.changed_fields, "
            "findings = excluded.findings "
            "WHERE import_staging.kind = 'quarantined' AND excluded.kind != 'quarantined'",
            [
                (
                    import_id,
                    r.record_id,
                    first_seq + i,
                    r.kind,
                    r.content_hash,
                    r.record,
                    orjson.dumps(r.changed_fields).decode() if r.changed_fields else None,
                    r.findings,
                )
                for i, r in enumerate(rows)
            ],
        )

    async def changes(self, import_id: str, after_seq: int, limit: int) -> list[StagedChange]:
        """New and changed records staged after `after_seq`, in file order."""
        async with self._db.execute(
            "SELECT seq, record_id, kind, content_hash, record, changed_fields, findings "
            "FROM import_staging WHERE import_id = ? AND kind IN ('new', 'changed') "
            "AND seq > ? ORDER BY seq LIMIT ?",
            (import_id, after_seq, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            StagedChange(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                tuple(orjson.loads(r[5]) if r[5] else ()),
                orjson.loads(r[6]) if r[6] else [],
            )
            for r in rows
        ]

    async def apply_changes(
        self, partner: str, import_id: str, after_seq: int, upto_seq: int
    ) -> None:
        """Write the staged new and changed records after `after_seq`, up to and including
        `upto_seq` (one batch of `changes`), into partner_records."""
        await self._db.execute(
            "INSERT INTO partner_records (partner, record_id, content_hash, record, last_import) "
            "SELECT ?, record_id, content_hash, record, import_id FROM import_staging "
            "WHERE import_id = ? AND kind IN ('new', 'changed') AND seq > ? AND seq <= ? "
            "ON CONFLICT (partner, record_id) DO UPDATE SET "
            "content_hash = excluded.content_hash, record = excluded.record, "
            "last_import = excluded.last_import",
            (partner, import_id, after_seq, upto_seq),
        )

    async def touch_mentioned(self, partner: str, import_id: str) -> None:
        """Mark the records the import mentioned without changing them."""
        await self._db.execute(
            "UPDATE partner_records SET last_import = ? WHERE partner = ? AND record_id IN "
            "(SELECT record_id FROM import_staging WHERE import_id = ? "
            "AND kind IN ('unchanged', 'quarantined'))",
            (import_id, partner, import_id),
        )

    async def existing(self, partner: str) -> int:
        async with self._db.execute(
            "SELECT COUNT(*) FROM partner_records WHERE partner = ?", (partner,)
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    _ABSENT = (
        "FROM partner_records AS p WHERE p.partner = ? AND NOT EXISTS "
        "(SELECT 1 FROM import_staging AS s WHERE s.import_id = ? AND s.record_id = p.record_id)"
    )

    async def count_removals(self, partner: str, import_id: str) -> int:
        """Records of `partner` the import did not mention at all."""
        async with self._db.execute(
            f"SELECT COUNT(*) {self._ABSENT}",
            (partner, import_id),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def removals(self, partner: str, import_id: str, limit: int) -> list[Removal]:
        """The first `limit` records the import did not mention, by record id."""
        async with self._db.execute(
            f"SELECT p.record_id, p.content_hash {self._ABSENT} ORDER BY p.record_id LIMIT ?",
            (partner, import_id, limit),
        ) as cursor:
            return [Removal(r[0], r[1]) for r in await cursor.fetchall()]

    async def clear(self, import_id: str) -> None:
        await self._db.execute("DELETE FROM import_staging WHERE import_id = ?", (import_id,))

    async def clear_unheld(self) -> None:
        """Drop rows of every import not held for an operator (left by a crash)."""
        await self._db.execute(
            "DELETE FROM import_staging WHERE import_id NOT IN "
            "(SELECT id FROM imports WHERE status = 'held')"
        )
