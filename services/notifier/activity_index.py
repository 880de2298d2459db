"""What the notifier remembers about each activity, so filters see more than one event.

Activity events carry the whole activity; SDG-tag events carry only the computed goals. The
index keeps, per activity, the facets of its latest version and the computed goals of the
latest tagging, so that

- an activity event matches SDG filters on its curated goals *and* the computed ones known
  from an earlier tagging (the tags of version N usually arrive just after version N);
- an SDG-tag event matches country, community, category and partner filters through the
  facets of the activity it tags.

Older versions never overwrite newer ones (topics are read concurrently, and replays
happen). :class:`MemoryActivityIndex` and :class:`SqliteActivityIndex` behave alike.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .sqlite_db import SqliteDb

_SCHEMA = """
CREATE TABLE IF NOT EXISTS activity_facets (
    activity_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL DEFAULT 0,
    facets TEXT,
    goals_version INTEGER NOT NULL DEFAULT 0,
    goals TEXT NOT NULL DEFAULT '[]'
)
"""


@dataclass(frozen=True, slots=True)
class Facets:
    """What subscription filters match an activity on (``sdgs``: the curated goals)."""

    countries: frozenset[str] = frozenset()
    communities: frozenset[str] = frozenset()
    sdgs: frozenset[int] = frozenset()
    category: str | None = None
    partners: frozenset[str] = frozenset()

    def to_json(self) -> str:
        return json.dumps(
            {
                "countries": sorted(self.countries),
                "communities": sorted(self.communities),
                "sdgs": sorted(self.sdgs),
                "category": self.category,
                "partners": sorted(self.partners),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Facets:
        doc = json.loads(text)
        return cls(
            countries=frozenset(doc["countries"]),
            communities=frozenset(doc["communities"]),
            sdgs=frozenset(doc["sdgs"]),
            category=doc["category"],
            partners=frozenset(doc["partners"]),
        )


#: One activity change as the index notes it: (activity id, version, facets).
Note = tuple[str, int, Facets]


class ActivityIndex(Protocol):
    async def note_activity(self, activity_id: str, version: int, facets: Facets) -> frozenset[int]:
        """Keep ``facets`` unless a newer version is known; return the computed goals known."""
        ...

    async def note_activities(self, notes: Sequence[Note]) -> list[frozenset[int]]:
        """``note_activity`` for each note in turn, at once (one transaction): durable when
        it returns, so the SDG-tag events read after it see every note."""
        ...

    async def note_goals(
        self, activity_id: str, version: int, goals: frozenset[int]
    ) -> Facets | None:
        """Keep computed ``goals`` unless newer ones are known; return the activity's facets."""
        ...


class MemoryActivityIndex:
    def __init__(self) -> None:
        self._facets: dict[str, tuple[int, Facets]] = {}
        self._goals: dict[str, tuple[int, frozenset[int]]] = {}

    async def note_activity(self, activity_id: str, version: int, facets: Facets) -> frozenset[int]:
        known = self._facets.get(activity_id)
        if known is None or version >= known[0]:
            self._facets[activity_id] = (version, facets)
        return self._goals.get(activity_id, (0, frozenset[int]()))[1]

    async def note_activities(self, notes: Sequence[Note]) -> list[frozenset[int]]:
        return [await self.note_activity(*note) for note in notes]

    async def note_goals(
        self, activity_id: str, version: int, goals: frozenset[int]
    ) -> Facets | None:
        known = self._goals.get(activity_id)
        if known is None or version >= known[0]:
            self._goals[activity_id] = (version, goals)
        found = self._facets.get(activity_id)
        return found[1] if found else None


_NOTE_ACTIVITY = (
    "INSERT INTO activity_facets (activity_id, version, facets) VALUES (?, ?, ?)"
    " ON CONFLICT(activity_id) DO UPDATE SET version = excluded.version,"
    " facets = excluded.facets WHERE excluded.version >= activity_facets.version"
)
_NO_GOALS = frozenset[int]()


def _goals(text: str) -> frozenset[int]:
    return frozenset(json.loads(text)) if text != "[]" else _NO_GOALS


class SqliteActivityIndex:
    """The index in its own table of the notifier's database file.

    :meth:`sharing` puts it on the store's :class:`SqliteDb`: two writing connections to one
    SQLite file wait on each other's write lock (the busy handler sleeps), which cost the
    consumer tens of milliseconds per event while the delivery writer committed. Each call
    is one transaction on the connection's thread. :meth:`open` gives it a file of its own.
    """

    def __init__(self, db: SqliteDb, *, owned: bool = True) -> None:
        self._db = db
        self._owned = owned

    @classmethod
    async def open(cls, path: str | Path) -> SqliteActivityIndex:
        return cls(await SqliteDb.open(path, schema=_SCHEMA))

    @classmethod
    async def sharing(cls, db: SqliteDb) -> SqliteActivityIndex:
        """The index on a connection someone else owns (and closes)."""
        await db.transaction(lambda c: c.execute(_SCHEMA))
        return cls(db, owned=False)

    async def close(self) -> None:
        if self._owned:
            await self._db.close()

    async def ping(self) -> bool:
        row = await self._db.read(lambda c: c.execute("SELECT 1").fetchone())
        return row is not None

    async def note_activity(self, activity_id: str, version: int, facets: Facets) -> frozenset[int]:
        (goals,) = await self.note_activities([(activity_id, version, facets)])
        return goals

    async def note_activities(self, notes: Sequence[Note]) -> list[frozenset[int]]:
        params = [
            (activity_id, version, facets.to_json()) for activity_id, version, facets in notes
        ]

        def work(c: sqlite3.Connection) -> list[sqlite3.Row | None]:
            rows: list[sqlite3.Row | None] = []
            for note in params:
                c.execute(_NOTE_ACTIVITY, note)
                rows.append(
                    c.execute(
                        "SELECT goals FROM activity_facets WHERE activity_id = ?", (note[0],)
                    ).fetchone()
                )
            return rows

        rows = await self._db.transaction(work) if params else []
        return [_goals(row[0]) if row else frozenset() for row in rows]

    async def note_goals(
        self, activity_id: str, version: int, goals: frozenset[int]
    ) -> Facets | None:
        params = (activity_id, version, json.dumps(sorted(goals)))

        def work(c: sqlite3.Connection) -> sqlite3.Row | None:
            c.execute(
                "INSERT INTO activity_facets (activity_id, goals_version, goals) VALUES (?, ?, ?)"
                " ON CONFLICT(activity_id) DO UPDATE SET goals_version = excluded.goals_version,"
                " goals = excluded.goals"
                " WHERE excluded.goals_version >= activity_facets.goals_version",
                params,
            )
            row: sqlite3.Row | None = c.execute(
                "SELECT facets FROM activity_facets WHERE activity_id = ?", (activity_id,)
            ).fetchone()
            return row

        row = await self._db.transaction(work)
        return Facets.from_json(row[0]) if row and row[0] else None
