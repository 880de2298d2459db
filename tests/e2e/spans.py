"""Reading the spans the services write as JSON lines (`TABRIDGE_TRACE_DIR/<service>.jsonl`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Span:
    service: str
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_id: str | None
    attributes: dict[str, Any]
    links: tuple[tuple[str, str], ...] = ()
    """(trace id, span id) of each span this one links to."""


def read_trace(trace_dir: Path, trace_id: str) -> list[Span]:
    """Every exported span of `trace_id`, from all services, and the spans of other traces
    that link into it (a consumer's batch span); a half-written line is skipped."""
    spans: list[Span] = []
    for path in sorted(trace_dir.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            links = tuple((link["trace_id"], link["span_id"]) for link in record.get("links") or ())
            if record.get("trace_id") == trace_id or any(t == trace_id for t, _ in links):
                spans.append(
                    Span(
                        service=record["service"],
                        name=record["name"],
                        kind=record["kind"],
                        trace_id=record["trace_id"],
                        span_id=record["span_id"],
                        parent_id=record["parent_id"],
                        attributes=record.get("attributes") or {},
                        links=links,
                    )
                )
    return spans


def find(spans: list[Span], *, service: str, kind: str, name_ends: str = "") -> list[Span]:
    return [
        s for s in spans if s.service == service and s.kind == kind and s.name.endswith(name_ends)
    ]
