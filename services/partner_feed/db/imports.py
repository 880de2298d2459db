"""Import reports: one row per import, one entry per record with findings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiosqlite
import orjson


class ImportTable:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def create(
        self,
        *,
        import_id: str,
        partner: str,
        source_format: str,
        channel: str,
        received_at: str,
        size: int,
    ) -> None:
        await self._db.execute(
            "INSERT INTO imports (id, partner, format, channel, status, received_at, bytes) "
            "VALUES (?, ?, ?, ?, 'running', ?, ?)",
            (import_id, partner, source_format, channel, received_at, size),
        )

    async def add_entries(
        self, import_id: str, entries: Sequence[tuple[int, bool, dict[str, Any]]]
    ) -> None:
        await self._db.executemany(
            "INSERT INTO import_entries (import_id, seq, accepted, body) VALUES (?, ?, ?, ?)",
            [(import_id, seq, int(ok), orjson.dumps(body).decode()) for seq, ok, body in entries],
        )

    async def finish(
        self, import_id: str, *, status: str, finished_at: str, summary: dict[str, Any]
    ) -> None:
        await self._db.execute(
            "UPDATE imports SET status = ?, finished_at = ?, summary = ? WHERE id = ?",
            (status, finished_at, orjson.dumps(summary).decode(), import_id),
        )

    async def resolve(self, import_id: str, summary: dict[str, Any]) -> None:
        """Replace a finished import's summary (and status): a held import decided."""
        await self._db.execute(
            "UPDATE imports SET status = ?, summary = ? WHERE id = ?",
            (summary["status"], orjson.dumps(summary).decode(), import_id),
        )

    async def progress(self, import_id: str, progress: dict[str, Any]) -> None:
        """Record how far a running import got (records and bytes read, events published)."""
        await self._db.execute(
            "UPDATE imports SET progress = ? WHERE id = ?",
            (orjson.dumps(progress).decode(), import_id),
        )

    async def held_by(self, partner: str) -> list[tuple[str, dict[str, Any]]]:
        """The partner's imports whose removals wait for an operator, with their summaries."""
        async with self._db.execute(
            "SELECT id, summary FROM imports WHERE partner = ? AND status = 'held' ORDER BY id",
            (partner,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [(row[0], orjson.loads(row[1]) if row[1] else {}) for row in rows]

    async def interrupt_running(self, finished_at: str) -> int:
        """Mark imports a previous process left running as interrupted."""
        cursor = await self._db.execute(
            "UPDATE imports SET status = 'interrupted', finished_at = ? WHERE status = 'running'",
            (finished_at,),
        )
        return cursor.rowcount


async def read_import(db: aiosqlite.Connection, import_id: str) -> dict[str, Any] | None:
    """The import row as a dict (summary decoded), or None."""
    async with db.execute(
        "SELECT id, partner, format, channel, status, received_at, finished_at, bytes, summary, "
        "progress FROM imports WHERE id = ?",
        (import_id,),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    return {
        "id": row[0],
        "partner": row[1],
        "format": row[2],
        "channel": row[3],
        "status": row[4],
        "received_at": row[5],
        "finished_at": row[6],
        "bytes": row[7],
        "progress": orjson.loads(row[9]) if row[9] else None,
        **(orjson.loads(row[8]) if row[8] else {}),
    }


async def read_entries(
    db: aiosqlite.Connection, import_id: str, *, accepted: bool, limit: int
) -> list[dict[str, Any]]:
    async with db.execute(
        "SELECT body FROM import_entries WHERE import_id = ? AND accepted = ? ORDER BY seq LIMIT ?",
        (import_id, int(accepted), limit),
    ) as cursor:
        return [orjson.loads(row[0]) for row in await cursor.fetchall()]


async def read_latest_imports(db: aiosqlite.Connection) -> dict[str, dict[str, Any]]:
    """Each partner's most recent import (by `received_at`), keyed by partner id."""
    async with db.execute(
        "SELECT i.id, i.partner, i.format, i.channel, i.status, i.received_at, i.finished_at,"
        " i.summary FROM imports AS i"
        " WHERE i.received_at = (SELECT MAX(received_at) FROM imports WHERE partner = i.partner)"
        " ORDER BY i.partner, i.id"
    ) as cursor:
        rows = await cursor.fetchall()
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        summary = orjson.loads(row[7]) if row[7] else {}
        latest[row[1]] = {
            "report_id": row[0],
            "format": row[2],
            "channel": row[3],
            "status": row[4],
            "received_at": row[5],
            "finished_at": row[6],
            "counts": summary.get("counts", {}),
        }
    return latest
