"""The last tagging of recently changed activities, so that a change that leaves an
activity's text and curated tags as they were is not tagged again.

Most updates (a status, dates, partners) do not touch what the tagger reads; tagging is the
tagger's main cost. Results are kept per activity (not shared between activities), keyed by
a digest of the tagger's input, for the `capacity` most recently changed activities of this
process. A restart starts empty, which only costs a tagging. The tagger is deterministic for
its model, so a kept result is the one tagging would give.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from services.sdg_tagger.activity_text import ActivityText
from services.sdg_tagger.result import TagResult

__all__ = ["RecentResults", "input_digest"]


def input_digest(source: ActivityText, known_targets: tuple[str, ...]) -> bytes:
    """What the tagger reads of an activity: its text and its curated goals and targets."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(source.text.encode())
    digest.update(repr((source.curated_goals, known_targets)).encode())
    return digest.digest()


class RecentResults:
    """Bounded: the least recently changed activity goes first."""

    def __init__(self, capacity: int = 4096) -> None:
        if capacity < 0:
            raise ValueError("capacity must be >= 0")
        self._capacity = capacity
        self._results: OrderedDict[str, tuple[bytes, TagResult]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._results)

    def get(self, activity_id: str, digest: bytes) -> TagResult | None:
        """The kept result when the activity's input is `digest` again, else None."""
        kept = self._results.get(activity_id)
        if kept is None or kept[0] != digest:
            return None
        self._results.move_to_end(activity_id)
        return kept[1]

    def put(self, activity_id: str, digest: bytes, result: TagResult) -> None:
        if self._capacity == 0:
            return
        self._results[activity_id] = (digest, result)
        self._results.move_to_end(activity_id)
        while len(self._results) > self._capacity:
            self._results.popitem(last=False)

    def forget(self, activity_id: str) -> None:
        self._results.pop(activity_id, None)
