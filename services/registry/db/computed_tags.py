"""The tagger's latest SDG result per activity, shown beside the curated tags."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import orjson

from services.registry.db.activities import utc_text
from shared.db import Connection, Database
from shared.events import SdgTagsAssigned


class ComputedTagTable:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, tags: SdgTagsAssigned) -> bool:
        """Keep `tags` unless a result for a later activity version is already stored."""
        [kept] = await self.save_many([tags])
        return kept

    async def save_many(self, results: Sequence[SdgTagsAssigned]) -> list[bool]:
        """`save` for each of `results`, in order, in one transaction (one commit for a run
        of the tagger's events); whether each was kept."""
        kept: list[bool] = []
        async with self._db.transaction() as conn:
            for tags in results:
                kept.append(await self._save_in(conn, tags))
        return kept

    @staticmethod
    async def _save_in(conn: Connection, tags: SdgTagsAssigned) -> bool:
        goals = sorted(tags.kept_goal_numbers())
        row = await conn.fetchrow(
            "SELECT activity_version FROM computed_tags WHERE activity_id = ?",
            (tags.activity_id,),
        )
        if row is not None and int(row[0]) > tags.activity_version:
            return False
        if not await conn.fetchrow("SELECT 1 FROM activities WHERE id = ?", (tags.activity_id,)):
            return False
        await conn.execute("DELETE FROM computed_tags WHERE activity_id = ?", (tags.activity_id,))
        await conn.execute(
            "INSERT INTO computed_tags"
            " (activity_id, activity_version, model_id, tags, updated_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                tags.activity_id,
                tags.activity_version,
                tags.model_id,
                tags.model_dump_json(),
                utc_text(datetime.now(UTC)),
            ),
        )
        await conn.execute(
            "DELETE FROM activity_facets WHERE activity_id = ? AND facet = 'sdg_computed'",
            (tags.activity_id,),
        )
        if goals:
            await conn.executemany(
                "INSERT INTO activity_facets (facet, value, number, activity_id)"
                " SELECT 'sdg_computed', ?, number, id FROM activities WHERE id = ?",
                [(str(g), tags.activity_id) for g in goals],
            )
        return True

    async def get_many(self, activity_ids: list[str]) -> dict[str, SdgTagsAssigned]:
        if not activity_ids:
            return {}
        async with self._db.read() as conn:
            rows = await conn.fetch(
                f"SELECT activity_id, tags FROM computed_tags WHERE activity_id IN"
                f" ({', '.join('?' for _ in activity_ids)})",
                activity_ids,
            )
        return {r[0]: SdgTagsAssigned.model_validate(orjson.loads(r[1])) for r in rows}
