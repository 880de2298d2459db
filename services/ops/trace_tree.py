"""One trace across the services, as a tree: who called whom, how long each hop took.

    trace 4bf92f35…4736: 4 spans, 3 services, 41.6 ms, from 2026-12-01T19:00:00.120Z
    registry POST /v1/activities                        12.1 ms   +0.0 ms  status=201 activity=…
    ├─ sdg-tagger tabridge.activity.events process      20.3 ms  +14.0 ms  group=… event=… key=…
    │  └─ sdg-tagger tabridge.sdg.tags send              1.2 ms  +30.1 ms  messages=1
    └─ notifier tabridge.activity.events process         3.0 ms  +15.2 ms  group=… key=…

Key attributes follow each span (the route, topic, group, offset, event id, activity id or
record key, webhook outcome), except those the span's name already says. Children are
ordered by start time. A span whose parent was not recorded (a caller outside
ta-bridge, a file not collected) is shown as a root, marked `(parent not recorded)`.

A consumer handles a batch of records under one span of its own trace that links to each
record's context (the producer's span): `spans_of_trace` takes those spans in with the
trace they link into, and the tree shows each under the span it links to, marked
`(linked)`; what the handler did for the record continues the trace under that span.

    registry POST /v1/activities                        12.1 ms   +0.0 ms  status=201 …
    └─ registry tabridge.activity.events send            0.4 ms   +3.0 ms  messages=1
       ├─ notifier tabridge.activity.events batch        3.0 ms  +15.2 ms  messages=12 … (linked)
       └─ notifier POST                                  2.1 ms  +15.9 ms  webhook=… outcome=…
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.ops.columns import columns
from services.ops.spans import MESSAGE_KEY_ATTRIBUTE, Span
from shared import ACTIVITY_ID_ATTRIBUTE

__all__ = [
    "TraceNode",
    "build_tree",
    "render_trace",
    "spans_of_trace",
    "trace_json",
    "traces_of_activity",
]

#: Attributes worth a glance, in display order, with their short labels.
KEY_ATTRIBUTES = (
    ("http.route", "route"),
    ("http.response.status_code", "status"),
    ("messaging.destination.name", "topic"),
    ("messaging.consumer.group.name", "group"),
    ("messaging.kafka.offset", "offset"),
    ("messaging.batch.message_count", "messages"),
    ("messaging.message.id", "event"),
    (ACTIVITY_ID_ATTRIBUTE, "activity"),
    ("webhook.id", "webhook"),
    ("webhook.outcome", "outcome"),
    ("server.address", "host"),
)


@dataclass
class TraceNode:
    span: Span
    children: list[TraceNode] = field(default_factory=list)
    orphan: bool = False
    linked: bool = False
    """The span belongs to another trace and links to its parent here."""


def traces_of_activity(spans: Iterable[Span], activity_id: str) -> list[str]:
    """Ids of the traces with a span naming `activity_id`, oldest first (by first span)."""
    first: dict[str, int] = {}
    matching: set[str] = set()
    for span in spans:
        first[span.trace_id] = min(first.get(span.trace_id, span.start_ns), span.start_ns)
        if activity_id in span.activity_ids:
            matching.add(span.trace_id)
    return sorted(matching, key=lambda t: (first[t], t))


def spans_of_trace(spans: Iterable[Span], trace_id: str) -> list[Span]:
    """The spans of `trace_id`, and the spans of other traces that link into it."""
    return [s for s in spans if s.trace_id == trace_id or any(t == trace_id for t, _ in s.links)]


def build_tree(spans: Sequence[Span], trace_id: str | None = None) -> list[TraceNode]:
    """The roots of the spans of one trace, each with its descendants, in start order.

    A span of another trace than `trace_id` that links to a span of it (`spans_of_trace`)
    is placed under the first span it links to, marked `linked`. A span recorded twice
    (the same id) is kept once.
    """
    nodes: dict[str, TraceNode] = {}
    for span in sorted(spans, key=lambda s: (s.start_ns, s.span_id)):
        nodes.setdefault(span.span_id, TraceNode(span))
    roots: list[TraceNode] = []
    for node in nodes.values():
        parent_id = node.span.parent_id
        parent = nodes.get(parent_id) if parent_id else None
        if trace_id is not None and node.span.links and node.span.trace_id != trace_id:
            linked = next(
                (nodes[s] for t, s in node.span.links if t == trace_id and s in nodes), None
            )
            if linked is not None:
                node.linked = True
                linked.children.append(node)
                continue
        if parent is None or parent is node:
            node.orphan = parent_id is not None
            roots.append(node)
        else:
            parent.children.append(node)
    return roots


def render_trace(trace_id: str, spans: Sequence[Span]) -> str:
    """The tree of `spans` (all of trace `trace_id`) as text, headed by a summary line."""
    if not spans:
        return f"trace {trace_id}: no spans"
    start = min(s.start_ns for s in spans)
    end = max(s.end_ns for s in spans)
    services = sorted({s.service for s in spans})
    began = datetime.fromtimestamp(start / 1e9, UTC).isoformat(timespec="milliseconds")
    head = (
        f"trace {trace_id}: {len(spans)} spans, {len(services)} services "
        f"({', '.join(services)}), {(end - start) / 1e6:.1f} ms, "
        f"from {began.replace('+00:00', 'Z')}"
    )
    rows: list[list[str]] = []
    for root in build_tree(spans, trace_id):
        _rows(root, "", "", rows, start)
    return "\n".join([head, *columns(rows, right={1, 2})])


def _rows(node: TraceNode, lead: str, branch: str, rows: list[list[str]], start: int) -> None:
    span = node.span
    label = f"{lead}{branch}{span.service} {span.name}"
    notes = _attributes(span)
    if span.status == "ERROR":
        notes = ["ERROR", *notes]
    if node.orphan:
        notes.append("(parent not recorded)")
    if node.linked:
        notes.append("(linked)")
    rows.append(
        [
            label,
            f"{span.duration_ms:.1f} ms",
            f"+{(span.start_ns - start) / 1e6:.1f} ms",
            " ".join(notes),
        ]
    )
    child_lead = lead + ("" if not branch else ("   " if branch == "└─ " else "│  "))
    for i, child in enumerate(node.children):
        final = i == len(node.children) - 1
        _rows(child, child_lead, "└─ " if final else "├─ ", rows, start)


def _attributes(span: Span) -> list[str]:
    shown = []
    for name, label in KEY_ATTRIBUTES:
        value = span.attributes.get(name)
        # The span name often is the route or the topic already: say it once.
        if value not in (None, "") and str(value) not in span.name:
            shown.append(f"{label}={value}")
    key = span.attributes.get(MESSAGE_KEY_ATTRIBUTE)
    if key and not span.attributes.get(ACTIVITY_ID_ATTRIBUTE):
        shown.append(f"key={key}")
    return shown


def trace_json(trace_id: str, spans: Sequence[Span]) -> dict[str, Any]:
    """The same tree as data, for `--json`."""

    def node_json(node: TraceNode) -> dict[str, Any]:
        s = node.span
        return {
            "service": s.service,
            "name": s.name,
            "span_id": s.span_id,
            "parent_id": s.parent_id,
            "kind": s.kind,
            "status": s.status,
            "start_ns": s.start_ns,
            "duration_ms": round(s.duration_ms, 3),
            "attributes": dict(s.attributes),
            "linked": node.linked,
            "children": [node_json(c) for c in node.children],
        }

    return {"trace_id": trace_id, "roots": [node_json(r) for r in build_tree(spans, trace_id)]}
