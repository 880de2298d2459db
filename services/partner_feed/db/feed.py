"""The feed view: the latest state of every activity, as the event stream told it.

Each change to a row takes the next change sequence number (`seq`); a feed cursor is a
sequence number, so `since=<cursor>` returns exactly the rows changed after it.
Withdrawn activities keep their row (flagged) so incremental readers learn of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import aiosqlite
import orjson

_NEXT_SEQ = "(SELECT COALESCE(MAX(seq), 0) + 1 FROM feed_activities)"


@dataclass(frozen=True, slots=True)
class FeedRow:
    activity_id: str
    seq: int
    withdrawn: bool
    state: str
    computed_goals: tuple[int, ...]
    computed_targets: tuple[str, ...]


class FeedTable:
    """Writes of the feed-view consumer. Callers hold the store lock and commit."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def apply_activity(
        self, activity_id: str, version: int, *, withdrawn: bool, state: str
    ) -> bool:
        """Store the activity if `version` is newer than what is held; True if it was."""
        cursor = await self._db.execute(
            "INSERT INTO feed_activities (activity_id, seq, version, withdrawn, state) "
            f"VALUES (?, {_NEXT_SEQ}, ?, ?, ?) "
            "ON CONFLICT (activity_id) DO UPDATE SET seq = excluded.seq, "
            "version = excluded.version, withdrawn = excluded.withdrawn, state = excluded.state "
            "WHERE excluded.version > feed_activities.version",
            (activity_id, version, int(withdrawn), state),
        )
        return cursor.rowcount > 0

    async def apply_tags(
        self,
        activity_id: str,
        activity_version: int,
        goals: Sequence[int],
        targets: Sequence[str],
    ) -> bool:
        """Keep the computed tags of the newest activity version; True if the feed changed."""
        goals_json = orjson.dumps(sorted(set(goals))).decode()
        targets_json = orjson.dumps(sorted(set(targets))).decode()
        cursor = await self._db.execute(
            "INSERT INTO computed_tags (activity_id, activity_version, goals, targets) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (activity_id) DO UPDATE SET "
            "activity_version = excluded.activity_version, goals = excluded.goals, "
            "targets = excluded.targets "
            "WHERE excluded.activity_version >= computed_tags.activity_version "
            "AND (excluded.goals != computed_tags.goals "
            "OR excluded.targets != computed_tags.targets)",
            (activity_id, activity_version, goals_json, targets_json),
        )
        if cursor.rowcount == 0:
            return False
        await self._db.execute(
            f"UPDATE feed_activities SET seq = {_NEXT_SEQ} WHERE activity_id = ?",
            (activity_id,),
        )
        return True


async def last_seq(db: aiosqlite.Connection) -> int:
    async with db.execute("SELECT COALESCE(MAX(seq), 0) FROM feed_activities") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def iter_rows(
    db: aiosqlite.Connection, *, since: int, upto: int, batch: int = 200
) -> AsyncIterator[FeedRow]:
    """Rows with `since < seq <= upto`, in sequence order, fetched in batches."""
    async with db.execute(
        "SELECT f.activity_id, f.seq, f.withdrawn, f.state, t.goals, t.targets "
        "FROM feed_activities f LEFT JOIN computed_tags t ON t.activity_id = f.activity_id "
        "WHERE f.seq > ? AND f.seq <= ? ORDER BY f.seq",
        (since, upto),
    ) as cursor:
        while rows := await cursor.fetchmany(batch):
            for r in rows:
                yield FeedRow(
                    activity_id=r[0],
                    seq=r[1],
                    withdrawn=bool(r[2]),
                    state=r[3],
                    computed_goals=tuple(orjson.loads(r[4])) if r[4] else (),
                    computed_targets=tuple(orjson.loads(r[5])) if r[5] else (),
                )


async def iter_states(db: aiosqlite.Connection) -> AsyncIterator[str]:
    """The state JSON of every active activity (for reconciliation)."""
    async with db.execute("SELECT state FROM feed_activities WHERE withdrawn = 0") as cursor:
        while rows := await cursor.fetchmany(500):
            for r in rows:
                yield r[0]
