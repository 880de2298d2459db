"""How far a running import got: records and bytes read, events published.

The worker thread that parses counts bytes as it reads them; the pipeline counts records
and events, and writes the figures to the import's row with each batch it commits, so
`GET /v1/imports/{id}` shows them while the import runs (and the final figures after).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Literal

Phase = Literal["parsing", "publishing", "done"]


@dataclass
class ImportProgress:
    bytes_total: int
    bytes_read: int = 0
    records: int = 0
    published: int = 0
    phase: Phase = "parsing"

    def as_json(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "records": self.records,
            "bytes": self.bytes_read,
            "bytes_total": self.bytes_total,
            "published": self.published,
        }


class CountingReader(io.BufferedReader):
    """A buffered file that adds every byte it hands out to `progress.bytes_read`.

    Written from the parsing thread only; a reader on the event loop sees a value at most
    one chunk behind (an int store is atomic under the GIL)."""

    def __init__(self, raw: io.RawIOBase, progress: ImportProgress) -> None:
        super().__init__(raw)
        self._progress = progress

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        self._progress.bytes_read += len(data)
        return data
