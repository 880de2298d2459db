"""The status view every service serves at `GET /v1/status`: one JSON document for operators.

    {"service": "registry", "status": "ok" | "degraded", "checked_at": "…",
     "checks": {"database": true, "kafka": true, …},          # the readiness checks
     "kafka": {"reachable": true, "error": null,
               "consumer_groups": [{"group", "topics", "lag", "partitions": [
                   {"topic", "partition", "committed", "end", "lag"}]}],
               "dlq": [{"topic", "depth", "exists"}]},
     "details": {…},                                          # what the service adds
     "warnings": ["…"]}

`status` is "degraded" when a readiness check fails or Kafka cannot be read; a warning
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
        warnings.extend(extra.warnings)
        healthy = all(checks.values()) and kafka["reachable"]
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
