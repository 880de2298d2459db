"""The status view every service serves at `GET /v1/status`: one JSON document for operators.

    {"service": "registry", "status": "ok" | "degraded", "checked_at": "…",
     "checks": {"database": true, "kafka": true, …},          # the readiness checks
     "kafka": {"reachable": true, "error": null,
               "consumer_groups": [{"group", "topics", "lag", "partitions": [
                   {"topic", "partition", "committed", "end", "lag"}]}],
               "dlq": [{"topic", "depth", "exists"}]},
     "details": {…},                                          # what the service adds
     "warnings": ["…"]}

`status` is "degraded" when a readiness check fails, Kafka cannot be read or a group has
committed beyond a partition's end (`beyond_end`: the broker lost what it acknowledged,
as when a cluster is rebuilt on fresh storage; a warning names each); a warning
(a non-empty DLQ, or what the service reports) leaves it "ok" but asks for a look. The
view always answers 200 while the process runs: a status is not a health probe.

Lag of a partition is `end - committed`; a group that never committed a partition lags by
what is retained there (`end - low`), since it will read from the earliest offset.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from shared._http import READINESS, json_response
from shared._offsets import OffsetReader, OffsetSnapshot
from shared._operator import is_operator

__all__ = [
    "ConsumerLag",
    "DlqDepth",
    "PartitionLag",
    "StatusDetails",
    "add_status_route",
    "consumer_lag",
    "dlq_depths",
]


@dataclass(frozen=True, slots=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None
    end: int
    lag: int

    @property
    def beyond_end(self) -> bool:
        """The group committed past the log's end: the broker lost records it had
        acknowledged (a cluster rebuilt on fresh storage, an unclean leader election)."""
        return self.committed is not None and self.committed > self.end


@dataclass(frozen=True, slots=True)
class ConsumerLag:
    group: str
    topics: tuple[str, ...]
    partitions: tuple[PartitionLag, ...]

    @property
    def total(self) -> int:
        return sum(p.lag for p in self.partitions)

    def as_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "topics": list(self.topics),
            "lag": self.total,
            "partitions": [
                {
                    "topic": p.topic,
                    "partition": p.partition,
                    "committed": p.committed,
                    "end": p.end,
                    "lag": p.lag,
                    "beyond_end": p.beyond_end,
                }
                for p in self.partitions
            ],
        }


@dataclass(frozen=True, slots=True)
class DlqDepth:
    """Records retained in a dead-letter topic (redriving re-publishes, it does not delete)."""

    topic: str
    depth: int
    exists: bool

    def as_json(self) -> dict[str, Any]:
        return {"topic": self.topic, "depth": self.depth, "exists": self.exists}


def consumer_lag(snapshot: OffsetSnapshot, group: str, topics: Sequence[str]) -> ConsumerLag:
    """The lag of `group` on every partition of `topics` (see the module docstring)."""
    committed = snapshot.committed.get(group, {})
    rows = []
    for topic in topics:
        for tp in snapshot.partitions(topic):
            end = snapshot.high[tp]
            done = committed.get(tp)
            start = done if done is not None else snapshot.low.get(tp, 0)
            rows.append(PartitionLag(topic, tp.partition, done, end, max(0, end - start)))
    return ConsumerLag(group, tuple(topics), tuple(rows))


def dlq_depths(snapshot: OffsetSnapshot, topics: Sequence[str]) -> list[DlqDepth]:
    return [
        DlqDepth(
            topic,
            sum(snapshot.high[tp] - snapshot.low.get(tp, 0) for tp in snapshot.partitions(topic)),
            topic not in snapshot.missing,
        )
        for topic in topics
    ]


@dataclass(frozen=True, slots=True)
class StatusDetails:
    """What a service adds to its status: JSON-ready values and warnings for operators."""

    values: Mapping[str, Any]
    warnings: Sequence[str] = field(default_factory=tuple)


DetailsSource = Callable[[web.Application], Awaitable[StatusDetails]]


def add_status_route(
    app: web.Application,
    *,
    service: str,
    reader: OffsetReader,
    groups: Mapping[str, Sequence[str]],
    dlq_topics: Sequence[str],
    details: DetailsSource | None = None,
    timeout: float = 5.0,
    clock: Callable[[], datetime] | None = None,
) -> None:
    """Serve `GET /v1/status` for `service`, whose consumer `groups` read the given topics
    and whose consumers dead-letter to `dlq_topics`.

    Each part (readiness checks, Kafka offsets, details) gets `timeout` seconds; a part
    that fails or times out is reported, never raised, so the view answers while the
    service's dependencies are down.
    """
    now = clock or (lambda: datetime.now(UTC))

    async def status(request: web.Request) -> web.Response:
        if not is_operator(request):
            checks = await _checks(request.app, timeout)
            return json_response(
                {
                    "service": service,
                    "status": "ok" if all(checks.values()) else "degraded",
                    "checked_at": now().isoformat(),
                    "detail": "consumer groups, topics, offsets and details need an operator "
                    "key: 'Authorization: Bearer <key>'",
                }
            )
        checks, kafka, extra = await asyncio.gather(
            _checks(request.app, timeout),
            _kafka(reader, groups, dlq_topics, timeout),
            _details(request.app, details, timeout),
        )
        warnings = [
            f"{d['topic']} holds {d['depth']} dead letter(s)"
            for d in kafka.get("dlq", [])
            if d["depth"] > 0
        ]
        lost = _beyond_end(kafka)
        warnings.extend(lost)
        warnings.extend(extra.warnings)
        healthy = all(checks.values()) and kafka["reachable"] and not lost
        return json_response(
            {
                "service": service,
                "status": "ok" if healthy else "degraded",
                "checked_at": now().isoformat(),
                "checks": checks,
                "kafka": kafka,
                "details": dict(extra.values),
                "warnings": warnings,
            }
        )

    app.router.add_get("/v1/status", status, allow_head=False)


def _beyond_end(kafka: Mapping[str, Any]) -> list[str]:
    return [
        f"group {g['group']} committed offset {p['committed']} of {p['topic']}[{p['partition']}] "
        f"but the log ends at {p['end']}: the broker lost records it had acknowledged "
        "(cluster replaced?); the consumer rewinds to the log start when it is next assigned"
        for g in kafka.get("consumer_groups", [])
        for p in g["partitions"]
        if p["beyond_end"]
    ]


async def _checks(app: web.Application, within: float) -> dict[str, bool]:
    checks = app[READINESS]
    names = list(checks)
    results = await asyncio.gather(
        *(asyncio.wait_for(checks[name](), within) for name in names), return_exceptions=True
    )
    return {name: result is True for name, result in zip(names, results, strict=True)}


async def _kafka(
    reader: OffsetReader,
    groups: Mapping[str, Sequence[str]],
    dlq_topics: Sequence[str],
    within: float,
) -> dict[str, Any]:
    topics = sorted({t for ts in groups.values() for t in ts} | set(dlq_topics))
    try:
        snapshot = await asyncio.wait_for(reader.snapshot(list(groups), topics), within)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return {
            "reachable": False,
            "error": f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
            "consumer_groups": [],
            "dlq": [],
        }
    return {
        "reachable": True,
        "error": None,
        "consumer_groups": [
            consumer_lag(snapshot, group, ts).as_json() for group, ts in groups.items()
        ],
        "dlq": [d.as_json() for d in dlq_depths(snapshot, dlq_topics)],
    }


async def _details(
    app: web.Application, details: DetailsSource | None, within: float
) -> StatusDetails:
    if details is None:
        return StatusDetails({})
    try:
        return await asyncio.wait_for(details(app), within)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return StatusDetails({"error": str(exc)}, [f"details unavailable: {exc}"])
