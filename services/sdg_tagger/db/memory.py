"""The tag store's in-memory twin, for tests: the same rules as `EmittedTable`."""

from __future__ import annotations

from dataclasses import dataclass

from services.sdg_tagger.db.port import WITHDRAWN_PRINT
from services.sdg_tagger.emission import LastEmitted

__all__ = ["MemoryTagStore"]


@dataclass(frozen=True, slots=True)
class _Entry:
    last: LastEmitted
    event_id: str | None


class MemoryTagStore:
    """A `TagStore` in a dict; nothing survives the process."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    async def last(self, activity_id: str) -> LastEmitted | None:
        entry = self._entries.get(activity_id)
        return None if entry is None else entry.last

    async def record_emitted(
        self, activity_id: str, version: int, fingerprint: str, event_id: str
    ) -> None:
        self._write(activity_id, LastEmitted(version, fingerprint), event_id)

    async def record_withdrawn(self, activity_id: str, version: int) -> None:
        self._write(activity_id, LastEmitted(version, WITHDRAWN_PRINT, withdrawn=True), None)

    def _write(self, activity_id: str, new: LastEmitted, event_id: str | None) -> None:
        old = self._entries.get(activity_id)
        if old is None:
            self._entries[activity_id] = _Entry(new, event_id)
            return
        if new.version < old.last.version:
            return
        withdrawn = old.last.withdrawn or new.withdrawn
        self._entries[activity_id] = _Entry(
            LastEmitted(new.version, new.fingerprint, withdrawn), event_id or old.event_id
        )
