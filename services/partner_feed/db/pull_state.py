"""What the last pull of each partner URL saw: its validators for the next conditional GET."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite


@dataclass(frozen=True, slots=True)
class PullState:
    etag: str | None
    last_modified: str | None
    checked_at: str
    outcome: str


class PullStateTable:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def get(self, partner: str) -> PullState | None:
        async with self._db.execute(
            "SELECT etag, last_modified, checked_at, outcome FROM pull_state WHERE partner = ?",
            (partner,),
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else PullState(row[0], row[1], row[2], row[3])

    async def save(self, partner: str, state: PullState) -> None:
        await self._db.execute(
            "INSERT INTO pull_state (partner, etag, last_modified, checked_at, outcome) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (partner) DO UPDATE SET etag = excluded.etag, "
            "last_modified = excluded.last_modified, checked_at = excluded.checked_at, "
            "outcome = excluded.outcome",
            (partner, state.etag, state.last_modified, state.checked_at, state.outcome),
        )
