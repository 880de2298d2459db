"""The tagger's store port: the last tag result emitted per activity.

One entry per activity: the version it was last tagged at, the fingerprint of the result
emitted then, and whether the activity has been withdrawn since. Writes never move an
entry back to an older version, so a late or replayed event cannot undo a newer one, and
a withdrawal is never forgotten. Implemented by `EmittedTable` (SQLite or PostgreSQL) and
by its in-memory twin `MemoryTagStore`; one behaviour suite runs on all three.
"""

from __future__ import annotations

from typing import Protocol

from services.sdg_tagger.emission import LastEmitted

__all__ = ["WITHDRAWN_PRINT", "TagStore"]

# The fingerprint recorded with a withdrawal (no result was emitted for it).
WITHDRAWN_PRINT = "withdrawn"


class TagStore(Protocol):
    async def last(self, activity_id: str) -> LastEmitted | None:
        """What was last recorded for the activity; None at first sight."""
        ...

    async def record_emitted(
        self, activity_id: str, version: int, fingerprint: str, event_id: str
    ) -> None:
        """Remember an emission (after the broker acknowledged it); durable on return.
        Ignored when a newer version is recorded already."""
        ...

    async def record_withdrawn(self, activity_id: str, version: int) -> None:
        """Remember that the activity was withdrawn: later replays of it emit nothing."""
        ...
