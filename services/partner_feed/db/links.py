"""Links from partner records to registry activities, with their discrepancies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite
import orjson


@dataclass(frozen=True, slots=True)
class StoredLink:
    record_id: str
    activity_id: str
    confidence: float
    method: str
    discrepancies: list[dict[str, Any]]


class LinkTable:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def lookup(self, partner: str, record_ids: Sequence[str]) -> dict[str, StoredLink]:
        found: dict[str, StoredLink] = {}
        for start in range(0, len(record_ids), 500):
            chunk = list(record_ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            async with self._db.execute(
                "SELECT record_id, activity_id, confidence, method, discrepancies FROM links "
                f"WHERE partner = ? AND record_id IN ({marks})",
                (partner, *chunk),
            ) as cursor:
                for r in await cursor.fetchall():
                    found[r[0]] = StoredLink(r[0], r[1], r[2], r[3], orjson.loads(r[4]))
        return found

    async def save(self, partner: str, links: Sequence[StoredLink]) -> None:
        await self._db.executemany(
            "INSERT INTO links (partner, record_id, activity_id, confidence, method, "
            "discrepancies) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (partner, record_id) DO UPDATE "
            "SET activity_id = excluded.activity_id, confidence = excluded.confidence, "
            "method = excluded.method, discrepancies = excluded.discrepancies",
            [
                (
                    partner,
                    link.record_id,
                    link.activity_id,
                    link.confidence,
                    link.method,
                    orjson.dumps(link.discrepancies).decode(),
                )
                for link in links
            ],
        )

    async def forget(self, partner: str, record_ids: Sequence[str]) -> None:
        await self._db.executemany(
            "DELETE FROM links WHERE partner = ? AND record_id = ?",
            [(partner, r) for r in record_ids],
        )


async def read_links(db: aiosqlite.Connection, partner: str) -> list[StoredLink]:
    async with db.execute(
        "SELECT record_id, activity_id, confidence, method, discrepancies FROM links "
        "WHERE partner = ? ORDER BY record_id",
        (partner,),
    ) as cursor:
        return [
            StoredLink(r[0], r[1], r[2], r[3], orjson.loads(r[4])) for r in await cursor.fetchall()
        ]
