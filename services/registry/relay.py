"""The outbox relay: publishes committed changes to Kafka, in commit order, at least once.

Each pass reads the oldest unpublished rows, publishes every row's event and the matching
snapshot in one batch (idempotent producer, `acks=all`), waits for every acknowledgement,
and only then marks the rows published. A crash or a broker outage between the two steps
republishes the same rows with the same event ids — consumers de-duplicate on them — so
nothing committed is lost and nothing uncommitted is ever published. With PostgreSQL and
several replicas, an advisory lock keeps one relay active at a time, preserving order.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge
from structlog.typing import FilteringBoundLogger

from services.registry.db.database import Database
from services.registry.db.outbox import OutboxRow, OutboxTable
from shared import EventCatalog, EventPublisher, Outgoing
from shared.events import ACTIVITY_EVENTS, ACTIVITY_SNAPSHOTS, ActivitySnapshot, namespaced
from shared.events.activity import ActivityWithdrawn


class RelayMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.published = Counter(
            "tabridge_outbox_published_total", "Outbox rows published.", registry=registry
        )
        self.backlog = Gauge(
            "tabridge_outbox_backlog", "Outbox rows not yet published.", registry=registry
        )
        self.failures = Counter(
            "tabridge_outbox_publish_failures_total", "Relay passes that failed.", registry=registry
        )


class OutboxRelay:
    def __init__(
        self,
        *,
        db: Database,
        outbox: OutboxTable,
        publisher: EventPublisher,
        catalog: EventCatalog,
        logger: FilteringBoundLogger,
        metrics: RelayMetrics,
        namespace: str = "",
        batch_size: int = 500,
        poll_interval: float = 1.0,
        max_backoff: float = 10.0,
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._publisher = publisher
        self._catalog = catalog
        self._log = logger.bind(component="outbox-relay")
        self._metrics = metrics
        self._events_topic = namespaced(ACTIVITY_EVENTS, namespace)
        self._snapshots_topic = namespaced(ACTIVITY_SNAPSHOTS, namespace)
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    def wake(self) -> None:
        """A change was committed: publish it now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Relay until `stop()`; a failed pass is retried with capped backoff."""
        backoff = 0.5
        while not self._stopping.is_set():
            async with self._db.leader("registry-outbox-relay") as leading:
                published = 0
                if leading:
                    try:
                        published = await self.relay_once()
                        backoff = 0.5
                    except Exception as exc:
                        self._metrics.failures.inc()
                        self._log.warning(
                            "relay pass failed; will retry", error=str(exc), backoff=backoff
                        )
                        await self._pause(backoff)
                        backoff = min(self._max_backoff, backoff * 2)
                        continue
            if published < self._batch_size:
                await self._pause(self._poll_interval)

    async def relay_once(self) -> int:
        """Publish one batch of pending rows; return how many were published."""
        rows = await self._outbox.pending(self._batch_size)
        if rows:
            await self._publisher.publish_all([item for row in rows for item in self._items(row)])
            await self._outbox.mark_published([row.seq for row in rows])
            self._metrics.published.inc(len(rows))
        backlog, _ = await self._outbox.backlog()
        self._metrics.backlog.set(backlog)
        return len(rows)

    def _items(self, row: OutboxRow) -> list[Outgoing]:
        event = self._catalog.decode_body(row.event_type, row.body.encode())
        created = datetime.fromisoformat(row.created_at.replace("Z", "+00:00"))
        state = getattr(event, "state")  # noqa: B009 - every activity event carries its state
        snapshot = ActivitySnapshot(
            activity_id=row.activity_id,
            version=state.version,
            lifecycle="withdrawn" if isinstance(event, ActivityWithdrawn) else "active",
            state=state,
        )
        return [
            Outgoing(self._events_topic, event, row.event_id, created, row.traceparent),
            Outgoing(
                self._snapshots_topic,
                snapshot,
                f"{row.event_id}.snapshot",
                created,
                row.traceparent,
            ),
        ]

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()
