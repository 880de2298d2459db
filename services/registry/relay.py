"""The outbox relay: publishes committed changes to Kafka, in commit order, at least once.

Each pass takes the oldest unpublished rows, publishes every row's event and the matching
snapshot in one batch (idempotent producer, `acks=all`), waits for every acknowledgement,
and only then marks the rows published, in one statement. A crash or a broker outage
between the two steps republishes the same rows with the same event ids — consumers
de-duplicate on them — so nothing committed is lost and nothing uncommitted is ever
published. With PostgreSQL and several replicas, an advisory lock keeps one relay active
at a time, preserving order.

Write-behind: the transactions of this process hand their rows over once committed
(`handed`), events built and serialised, and the relay publishes those without reading
the table. It may, because it knows the outbox's `tail`: every row up to it is published
or waiting in its hands. Rows commit in `seq` order (services/registry/db/outbox.py), so a
handed row numbered `tail + 1` is the next one to publish. Any other number means rows
this process did not hand over (another replica's, a bulk import's, a script's, or a
sequence gap) and the relay reads the table instead — as it does on start, after a
failure, when it was not the leader, and when a poll interval passes with nothing handed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Sequence
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge
from structlog.typing import FilteringBoundLogger

from services.registry.db.outbox import OutboxRecord, OutboxRow, OutboxTable
from shared import EventCatalog, EventPublisher, Outgoing
from shared.db import Database
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
        max_handed: int = 4_096,
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
        self._max_handed = max_handed
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._handed: deque[OutboxRecord] = deque()
        self._tail: int | None = None  # None: unknown, read the table
        self._scan = True

    def wake(self) -> None:
        """Rows were committed that were not handed over: read the table now rather than at
        the next poll."""
        self._scan = True
        self._wake.set()

    def handed(self, records: Sequence[OutboxRecord]) -> None:
        """Rows this process has just committed, in `seq` order: publish them as they are."""
        if records:
            if len(self._handed) + len(records) > self._max_handed:
                self._forget()  # far behind (Kafka down?): the table holds them all
            else:
                self._handed.extend(records)
        self._wake.set()

    def _forget(self) -> None:
        """Drop what was handed over and read the table next."""
        self._handed.clear()
        self._scan = True

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Relay until `stop()`; a failed pass is retried with capped backoff."""
        backoff = 0.5
        while not self._stopping.is_set():
            async with self._db.leader("registry-outbox-relay") as leading:
                published = 0
                if not leading:
                    self._forget()  # the leader publishes them; read the table once leading
                else:
                    try:
                        published = await self.relay_once()
                        backoff = 0.5
                    except Exception as exc:
                        self._forget()
                        self._metrics.failures.inc()
                        self._log.warning(
                            "relay pass failed; will retry", error=str(exc), backoff=backoff
                        )
                        await self._pause(backoff)
                        backoff = min(self._max_backoff, backoff * 2)
                        continue
            if leading and (published >= self._batch_size or self._handed or self._scan):
                continue  # more is waiting (wake-ups for it may have come before this pass)
            if not await self._pause(self._poll_interval):
                self._scan = True  # a quiet interval: look for rows nobody handed over

    async def relay_once(self) -> int:
        """Publish one batch of pending rows; return how many were published."""
        if self._scan or self._tail is None:
            return await self._relay_table()
        tail = self._tail
        handed = self._handed
        while handed and handed[0].seq <= tail:
            handed.popleft()  # read from the table already
        if not handed:
            return 0
        if handed[0].seq != tail + 1:
            return await self._relay_table()  # rows in between that were not handed over
        batch: list[OutboxRecord] = []
        while handed and len(batch) < self._batch_size and handed[0].seq == tail + 1:
            tail += 1
            batch.append(handed.popleft())
        items = [item for record in batch for item in self._ready(record)]
        try:
            await self._publisher.publish_all(items)
            await self._outbox.mark_published([record.seq for record in batch])
        except BaseException:
            self._forget()
            raise
        self._tail = tail
        self._metrics.published.inc(len(batch))
        self._metrics.backlog.set(len(handed))
        return len(batch)

    async def _relay_table(self) -> int:
        """Publish the oldest pending rows as read from the table, and learn the tail."""
        self._scan = False  # a wake() while this reads asks for another read
        last = await self._outbox.last_seq()
        rows = await self._outbox.pending(self._batch_size)
        if rows:
            await self._publisher.publish_all([item for row in rows for item in self._items(row)])
            await self._outbox.mark_published([row.seq for row in rows])
            self._metrics.published.inc(len(rows))
        if len(rows) == self._batch_size:
            # More may follow: everything up to the last row read is published.
            self._tail, self._scan = rows[-1].seq, True
        else:
            # Everything up to `last` was committed before the read, so it was read (or
            # was published already); rows read past it are published now too.
            self._tail = max(last, rows[-1].seq if rows else 0)
        backlog, _ = await self._outbox.backlog()
        self._metrics.backlog.set(backlog)
        return len(rows)

    def _ready(self, record: OutboxRecord) -> list[Outgoing]:
        """A handed-over row's event and snapshot, as they were built and serialised."""
        created, traceparent = record.created_at, record.traceparent
        return [
            Outgoing(
                self._events_topic,
                record.event,
                record.event_id,
                created,
                traceparent,
                record.body,
            ),
            Outgoing(
                self._snapshots_topic,
                record.snapshot,
                f"{record.event_id}.snapshot",
                created,
                traceparent,
                record.snapshot_body,
            ),
        ]

    def _items(self, row: OutboxRow) -> list[Outgoing]:
        body = row.body.encode()
        event = self._catalog.decode_body(row.event_type, body)
        created = datetime.fromisoformat(row.created_at.replace("Z", "+00:00"))
        state = getattr(event, "state")  # noqa: B009 - every activity event carries its state
        snapshot = ActivitySnapshot(
            activity_id=row.activity_id,
            version=state.version,
            lifecycle="withdrawn" if isinstance(event, ActivityWithdrawn) else "active",
            state=state,
        )
        return [
            Outgoing(self._events_topic, event, row.event_id, created, row.traceparent, body),
            Outgoing(
                self._snapshots_topic,
                snapshot,
                f"{row.event_id}.snapshot",
                created,
                row.traceparent,
            ),
        ]

    async def _pause(self, seconds: float) -> bool:
        """Wait for a wake-up, at most `seconds`; whether one came."""
        woken = False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
            woken = True
        self._wake.clear()
        return woken
