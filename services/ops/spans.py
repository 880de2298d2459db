"""Spans as the services write them locally: `<trace dir>/<service>.jsonl`, one JSON object
a line (see `shared.JsonlSpanExporter`).

Reading is tolerant: a line that is not a span (a partial write, a foreign line) is
counted and skipped, never fatal, because the files are appended to while services run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared import ACTIVITY_ID_ATTRIBUTE

__all__ = ["MESSAGE_KEY_ATTRIBUTE", "Span", "SpanFiles", "read_spans"]

MESSAGE_KEY_ATTRIBUTE = "messaging.kafka.message.key"


@dataclass(frozen=True, slots=True)
class Span:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    service: str
    kind: str
    start_ns: int
    end_ns: int
    status: str
    attributes: Mapping[str, Any] = field(default_factory=dict)
    links: tuple[tuple[str, str], ...] = ()
    """(trace id, span id) of each span this one links to (a consumer's batch span links
    to the producer's span of each record it handled)."""

    @property
    def duration_ms(self) -> float:
        return max(0, self.end_ns - self.start_ns) / 1e6

    @property
    def activity_ids(self) -> set[str]:
        """The activity ids this span names: its activity attribute or its record key."""
        found = set()
        for name in (ACTIVITY_ID_ATTRIBUTE, MESSAGE_KEY_ATTRIBUTE):
            value = self.attributes.get(name)
            if isinstance(value, str) and value:
                found.add(value)
        return found

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Span:
        """Raises KeyError, TypeError or ValueError when `record` is not a span."""
        attributes = record.get("attributes") or {}
        if not isinstance(attributes, Mapping):
            raise TypeError("attributes is not an object")
        start = int(record["start_ns"])
        return cls(
            trace_id=str(record["trace_id"]).lower(),
            span_id=str(record["span_id"]).lower(),
            parent_id=str(record["parent_id"]).lower() if record.get("parent_id") else None,
            name=str(record["name"]),
            service=str(record.get("service") or "?"),
            kind=str(record.get("kind") or "INTERNAL"),
            start_ns=start,
            end_ns=int(record.get("end_ns") or start),
            status=str(record.get("status") or "UNSET"),
            attributes=dict(attributes),
            links=tuple(_links(record.get("links"))),
        )


def _links(raw: object) -> Iterator[tuple[str, str]]:
    if not isinstance(raw, list):
        return
    for link in raw:
        if isinstance(link, Mapping) and link.get("trace_id") and link.get("span_id"):
            yield str(link["trace_id"]).lower(), str(link["span_id"]).lower()


@dataclass
class SpanFiles:
    """What was read from a trace directory."""

    spans: list[Span]
    files: list[Path]
    skipped_lines: int = 0


def read_spans(directory: Path) -> SpanFiles:
    """Every span of every `*.jsonl` file in `directory` (none when it does not exist)."""
    files = sorted(directory.glob("*.jsonl")) if directory.is_dir() else []
    result = SpanFiles([], files)
    for path in files:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for span in _parse(fh, result):
                result.spans.append(span)
    return result


def _parse(lines: Iterable[str], result: SpanFiles) -> Iterator[Span]:
    for line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise TypeError("not an object")
            yield Span.from_record(record)
        except (KeyError, TypeError, ValueError):
            result.skipped_lines += 1
