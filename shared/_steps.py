"""The consumer runner's steps, each with one job, in the order a batch meets them.

    getmany ─▶ DecodeEnvelopes ─▶ RouteByType ─▶ SkipDuplicates.check
            ─▶ per partition, in offset order (partitions concurrently):
                  TraceRecords.open ─▶ RunHandlers (DecodeEvent, RetryPolicy) ─▶ DeadLetters
            ─▶ SkipDuplicates.remember (the batch's effects, durable) ─▶ Tally.flush
            ─▶ TraceRecords.batch ─▶ CommitTracker / Committer (`shared._commit`)

A step works on `Item`s, one per record, and writes its finding on the item (`skip`,
`error`, `route`, `span`); the next steps read it. Nothing here polls or commits: the
runner (`shared._consumer`) owns the loop, and the commit policy lives in `_commit`.
"""

from __future__ import annotations

import asyncio
import bisect
import random
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace import Event as SpanEvent
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    Tracer,
)
from structlog.typing import FilteringBoundLogger

from shared._dead_letter import dead_letter_headers, dead_letter_topic
from shared._dedup import BatchDedupStore, DedupStore
from shared._envelope import Envelope
from shared._errors import DlqLimitExceeded, InvalidEvent
from shared._event_model import Event, EventCatalog, split_type
from shared._metrics import PipelineMetrics
from shared._policies import DlqWindow, RetryPolicy
from shared._producer import EventPublisher
from shared._routing import BatchHandler, Handler, MessageContext, Router, message_context
from shared._tracing import SpanRecorder, error_event, parse_traceparent
from shared._transport import Record, TopicPartition, delivered

__all__ = [
    "Abandoned",
    "DeadLetters",
    "DecodeEnvelopes",
    "Item",
    "Route",
    "RouteByType",
    "RunHandlers",
    "SkipDuplicates",
    "Tally",
    "TraceRecords",
]

Progress = Callable[[TopicPartition, int, int], None]
"""Told `(partition, next offset, count)` when records are done (handled or dead-lettered)."""


@dataclass(frozen=True, slots=True, eq=False)
class Route:
    """Where events of one family on one topic go (exactly one of the two handlers)."""

    family: str
    handler: Handler | None
    batch_handler: BatchHandler | None
    handled: Any
    latency: Any


@dataclass(slots=True, eq=False)
class Item:
    """One record on its way through the steps."""

    record: Record
    key: str | None = None
    envelope: Envelope | None = None
    error: InvalidEvent | None = None
    """Why the record goes to the DLQ without a handler (set by a decoding step)."""
    skip: str | None = None
    """Why the record is done without a handler: unrouted, newer_version, duplicate."""
    route: Route | None = None
    event: Event | None = None
    parent: SpanContext | None = None
    span: SpanContext | None = None
    started_ns: int = 0
    span_events: list[SpanEvent] | None = None
    """What went wrong on the way (each failed attempt), for the record's span."""

    def failed(self, exc: BaseException) -> None:
        if self.span_events is None:
            self.span_events = []
        self.span_events.append(error_event(exc))


class Abandoned(Exception):
    """A record given up on because the runner is stopping; it stays uncommitted."""


# -- decode, route, de-duplicate ------------------------------------------------------


class DecodeEnvelopes:
    """Records to items: the CloudEvents envelope read from the headers, the key as text.

    A record that is no CloudEvent gets `error` (it goes to the DLQ untouched).
    """

    def __call__(self, records: Iterable[Record]) -> list[Item]:
        items = []
        for record in records:
            raw_key = record.key
            item = Item(record, raw_key.decode("utf-8", "replace") if raw_key else None)
            try:
                item.envelope = Envelope.from_kafka(record.headers, record.value)
            except InvalidEvent as exc:
                item.error = exc
            items.append(item)
        return items


class RouteByType:
    """Gives each item its route, or the reason it is skipped; decided once per type."""

    def __init__(
        self, router: Router, catalog: EventCatalog, metrics: PipelineMetrics, group: str
    ) -> None:
        self._router = router
        self._catalog = catalog
        self._metrics = metrics
        self._group = group
        self._routes: dict[tuple[str, str], Route | str] = {}

    def __call__(self, items: Iterable[Item]) -> None:
        routes = self._routes
        for item in items:
            envelope = item.envelope
            if envelope is None:
                continue
            route = routes.get((item.record.topic, envelope.type))
            if route is None:
                try:
                    route = self.route(item.record.topic, envelope.type)
                except InvalidEvent as exc:
                    item.error = exc
                    continue
            if isinstance(route, str):
                item.skip = route
            else:
                item.route = route

    def route(self, topic: str, ce_type: str) -> Route | str:
        """Raises InvalidEvent: the type carries no major version."""
        key = (topic, ce_type)
        cached = self._routes.get(key)
        if cached is not None:
            return cached
        family, version = split_type(ce_type)
        handler = self._router.handler_for(family)
        batch_handler = self._router.batch_handler_for(family)
        latest = self._catalog.latest(family)
        route: Route | str
        if (handler is None and batch_handler is None) or latest is None:
            route = "unrouted"
        elif version > latest.VERSION:
            # A newer major version published side by side: this reader keeps to its own.
            route = "newer_version"
        else:
            route = Route(
                family=family,
                handler=handler,
                batch_handler=batch_handler,
                handled=self._metrics.handled.labels(self._group, topic, family),
                latency=self._metrics.handler_seconds.labels(self._group, topic),
            )
        self._routes[key] = route
        return route


class SkipDuplicates:
    """De-duplication on event id: one look-up and one write per batch.

    `check` marks the items whose effect already happened (`skip = "duplicate"`);
    `first_time` catches an id met twice within one batch; `remember` makes the batch's
    completed ids durable before anything of the batch is committed.
    """

    def __init__(self, store: DedupStore, group: str) -> None:
        self._store = store
        self._group = group
        self._batched = isinstance(store, BatchDedupStore)

    async def check(self, items: Sequence[Item]) -> None:
        candidates = [i for i in items if i.route is not None and i.envelope is not None]
        if not candidates:
            return
        ids = [i.envelope.id for i in candidates if i.envelope is not None]
        if self._batched:
            assert isinstance(self._store, BatchDedupStore)
            seen = await self._store.seen_many(self._group, ids)
        else:
            seen = {i for i in ids if await self._store.seen(self._group, i)}
        if seen:
            for item in candidates:
                if item.envelope is not None and item.envelope.id in seen:
                    item.skip = "duplicate"

    async def remember(self, event_ids: Collection[str]) -> None:
        if not event_ids:
            return
        if self._batched:
            assert isinstance(self._store, BatchDedupStore)
            await self._store.mark_many(self._group, event_ids)
        else:
            for event_id in event_ids:
                await self._store.mark(self._group, event_id)


# -- metrics --------------------------------------------------------------------------


class Tally:
    """The batch's metric updates, counted in plain dicts and applied once (`flush`)."""

    def __init__(self, metrics: PipelineMetrics, group: str) -> None:
        self._metrics = metrics
        self._group = group
        self.handled: Counter[Route] = Counter()
        self.skipped: Counter[tuple[str, str]] = Counter()
        self.failed: Counter[tuple[str, str]] = Counter()
        self.dead_lettered: Counter[str] = Counter()
        self.latencies: list[tuple[Any, float]] = []
        """(histogram child, seconds) pairs, observed together at the flush."""

    def flush(self) -> None:
        metrics, group = self._metrics, self._group
        for route, n in self.handled.items():
            route.handled.inc(n)
        _observe_all(self.latencies)
        for (topic, reason), n in self.skipped.items():
            metrics.skipped.labels(group, topic, reason).inc(n)
        for (topic, error), n in self.failed.items():
            metrics.failed.labels(group, topic, error).inc(n)
        for topic, n in self.dead_lettered.items():
            metrics.dead_lettered.labels(group, topic).inc(n)
        self.handled.clear()
        self.latencies.clear()
        self.skipped.clear()
        self.failed.clear()
        self.dead_lettered.clear()


def _observe_all(latencies: Sequence[tuple[Any, float]]) -> None:
    """Observe each (histogram child, seconds): per child, bucket counts are summed here and
    added once each (prometheus_client's `observe` takes a lock and searches the buckets
    per call); a child without the expected inner parts is observed one value at a time."""
    by_child: dict[int, tuple[Any, list[float]]] = {}
    for child, seconds in latencies:
        entry = by_child.get(id(child))
        if entry is None:
            by_child[id(child)] = (child, [seconds])
        else:
            entry[1].append(seconds)
    for child, values in by_child.values():
        bounds = getattr(child, "_upper_bounds", None)
        buckets = getattr(child, "_buckets", None)
        total = getattr(child, "_sum", None)
        if bounds is None or buckets is None or total is None or len(bounds) != len(buckets):
            for value in values:
                child.observe(value)
            continue
        counts = [0] * len(bounds)
        for value in values:
            counts[bisect.bisect_left(bounds, value)] += 1
        for index, count in enumerate(counts):
            if count:
                buckets[index].inc(count)
        total.inc(sum(values))


# -- tracing --------------------------------------------------------------------------


class TraceRecords:
    """A span per batch, linking to each record's context, in place of a span per record.

    A record is handled in the context it came with (the producer's span, in the trace of
    the change it carries): what its handler publishes or calls stays in that trace, and
    the batch's span (a trace of its own) links to it, so `ta-bridge trace` follows the
    change through this hop by the link. A record whose handling went wrong (a failed
    attempt, a dead letter) also gets a process span of its own in its trace, a child of
    the producer's span, carrying the errors: the trace of a change shows where it failed.

    The batch span is recorded when any of its records' traces is sampled (its links name
    only those): with head sampling, a kept trace keeps its consumer hop. Spans are
    recorded through `SpanRecorder` (microseconds, not tens of them).
    """

    def __init__(self, tracer: Tracer, group: str) -> None:
        self._recorder = SpanRecorder(tracer)
        self._group = group
        self._names: dict[str, str] = {}

    def open(self, item: Item) -> None:
        envelope = item.envelope
        if envelope is None:
            return
        item.parent = item.span = parse_traceparent(envelope.traceparent, envelope.tracestate)
        item.started_ns = time.time_ns()

    @staticmethod
    def activate(item: Item) -> object | None:
        """Make the record's context current (for a per-record handler); a token to `detach`."""
        if item.span is None:
            return None
        return otel_context.attach(trace.set_span_in_context(NonRecordingSpan(item.span)))

    @staticmethod
    def detach(token: object | None) -> None:
        if token is not None:
            otel_context.detach(token)  # type: ignore[arg-type]

    def close(self, item: Item, error: BaseException | None = None) -> None:
        """Record the item's own process span when its handling went wrong (`error`, or
        failed attempts on `item.span_events`); nothing otherwise (the batch span links
        to it)."""
        if (error is None and not item.span_events) or item.envelope is None:
            return
        parent = item.parent
        span = self._recorder.start(parent, "process", SpanKind.CONSUMER)
        if span is None or span is parent:
            return
        record = item.record
        topic = record.topic
        name = self._names.get(topic)
        if name is None:
            name = self._names[topic] = f"{topic} process"
        self._recorder.end(
            span,
            parent,
            name,
            kind=SpanKind.CONSUMER,
            start_ns=item.started_ns,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": topic,
                "messaging.consumer.group.name": self._group,
                "messaging.kafka.offset": record.offset,
                "messaging.kafka.message.key": item.key or "",
                "messaging.message.id": item.envelope.id,
            },
            events=item.span_events or (),
            status=Status(StatusCode.ERROR, str(error)) if error is not None else _OK,
        )

    def batch(self, items: Sequence[Item], topics: Sequence[str], started_ns: int) -> None:
        """One span for the whole batch (its own trace), linking to each sampled record's
        context; not recorded when no record's trace is sampled."""
        recorder = self._recorder
        if not recorder.recording or not items:
            return
        links = [
            Link(parent)
            for i in items
            if (parent := i.parent) is not None and parent.trace_flags & _SAMPLED
        ]
        if not links:
            return
        name = f"{','.join(topics)} batch"
        span = recorder.start_sampled_root()
        if span is None:
            return
        recorder.end(
            span,
            None,
            name,
            kind=SpanKind.CONSUMER,
            start_ns=started_ns,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": ",".join(topics),
                "messaging.consumer.group.name": self._group,
                "messaging.batch.message_count": len(items),
            },
            links=links,
        )


_SAMPLED = TraceFlags.SAMPLED
_OK = Status(StatusCode.UNSET)


# -- dead letters ---------------------------------------------------------------------


class DeadLetters:
    """Writes a poison record to `<topic>.dlq` (original headers plus `dlq.*`) and waits for
    the acknowledgement; past the `DlqLimit` raises `DlqLimitExceeded` instead."""

    def __init__(
        self,
        publisher: EventPublisher,
        window: DlqWindow,
        *,
        group: str,
        tally: Tally,
        logger: FilteringBoundLogger,
        retry_topic: str | None = None,
    ) -> None:
        self._publisher = publisher
        self._retry_topic = retry_topic
        self.window = window
        self._group = group
        self._tally = tally
        self._log = logger
        self._ok = 0

    def ok(self, count: int = 1) -> None:
        """`count` records were done without a dead letter (told to the window in one go,
        before the next dead letter is judged, or at the end of the batch)."""
        self._ok += count

    def flush(self) -> None:
        if self._ok:
            self.window.record_ok(self._ok)
            self._ok = 0

    async def send(self, record: Record, error: BaseException, *, attempts: int) -> None:
        self.flush()
        self.window.record(dead_lettered=True)
        reason = self.window.exceeded()
        if reason is not None:
            raise DlqLimitExceeded(f"{self._group} on {record.topic}: {reason}") from error
        headers = dead_letter_headers(
            record.headers,
            error=error,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            group=self._group,
            attempts=attempts,
            retry_topic=self._retry_topic,
        )
        future = await self._publisher.publish_raw(
            dead_letter_topic(record.topic, record.headers),
            key=record.key,
            value=record.value,
            headers=headers,
        )
        await delivered([future])
        self._tally.dead_lettered[record.topic] += 1
        self._log.error(
            "dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error_type=type(error).__name__,
            error=str(error),
            attempts=attempts,
        )


# -- handlers and retries -------------------------------------------------------------


class RunHandlers:
    """Runs a partition's items through their handlers in offset order.

    A per-record handler gets each event with the record's span current; a batch handler
    gets each run of consecutive events it routes, at once. A failure is retried with the
    `RetryPolicy` (a failed batch is retried one event at a time, so a poison event is
    found and dead-lettered alone); a record whose retries are spent, or whose body does
    not decode, goes to the DLQ. Retry waits end early when the runner stops.
    """

    def __init__(
        self,
        *,
        catalog: EventCatalog,
        retry: RetryPolicy,
        dead_letters: DeadLetters,
        tracing: TraceRecords,
        tally: Tally,
        stopping: asyncio.Event,
        logger: FilteringBoundLogger,
        rng: random.Random,
        dedup: bool,
    ) -> None:
        self._catalog = catalog
        self._retry = retry
        self._dlq = dead_letters
        self._trace = tracing
        self._tally = tally
        self._stopping = stopping
        self._log = logger
        self._rng = rng
        self._dedup = dedup

    async def partition(
        self,
        tp: TopicPartition,
        items: Sequence[Item],
        *,
        progress: Progress,
        revoked: Collection[TopicPartition],
        done_ids: list[str],
        seen_ids: set[str],
    ) -> None:
        """Handle `items` (one partition's, in order); stop early when `tp` is revoked.

        `done_ids` collects the ids whose effect completed (for de-duplication);
        `seen_ids` is shared by the batch's partitions to catch an id met twice.
        """
        dedup = self._dedup
        i, n = 0, len(items)
        while i < n:
            if tp in revoked:
                return  # revoked mid-batch: the new owner starts from our last commit
            item = items[i]
            route = item.route
            envelope = item.envelope
            if (
                route is None
                or envelope is None
                or item.error is not None
                or item.skip is not None
                or (dedup and envelope.id in seen_ids)
            ):
                await self._without_handler(item, seen_ids)
                progress(tp, item.record.offset + 1, 1)
                i += 1
                continue
            if route.batch_handler is None:
                # The common case: one record, one per-record handler.
                assert route.handler is not None
                if dedup:
                    seen_ids.add(envelope.id)
                try:
                    if await self._one(item, route, route.handler):
                        done_ids.append(envelope.id)
                except Abandoned:
                    return
                progress(tp, item.record.offset + 1, 1)
                i += 1
                continue
            end = i + 1
            while end < n and self._joins(items[end], route, seen_ids):
                end += 1
            if dedup:
                seen_ids.update(x.envelope.id for x in items[i:end] if x.envelope)
            try:
                await self._segment(items[i:end], route, progress, revoked, done_ids)
            except Abandoned:
                return
            i = end

    async def _without_handler(self, item: Item, seen_ids: set[str]) -> bool:
        """Finish an item that needs no handler (poison, skipped, a repeat within the
        batch): True when it was finished here."""
        topic = item.record.topic
        if item.error is not None:
            await self._dlq.send(item.record, item.error, attempts=0)
        elif item.route is None or item.skip is not None:
            self._tally.skipped[(topic, item.skip or "unrouted")] += 1
            self._dlq.ok()
        elif self._dedup and item.envelope is not None and item.envelope.id in seen_ids:
            self._tally.skipped[(topic, "duplicate")] += 1
            self._dlq.ok()
        else:
            return False
        return True

    def _joins(self, item: Item, route: Route, seen_ids: set[str]) -> bool:
        return (
            item.route is route
            and item.error is None
            and item.skip is None
            and item.envelope is not None
            and not (self._dedup and item.envelope.id in seen_ids)
        )

    async def _segment(
        self,
        items: Sequence[Item],
        route: Route,
        progress: Progress,
        revoked: Collection[TopicPartition],
        done_ids: list[str],
    ) -> None:
        """A run of one batch handler's items: decoded, handled at once, or one by one."""
        batch_handler = route.batch_handler
        assert batch_handler is not None
        tp = TopicPartition(items[0].record.topic, items[0].record.partition)
        ready: list[tuple[Item, Event]] = []
        for item in items:
            self._trace.open(item)
            event = await self._decode(item)
            if event is None:
                # A body that does not decode: what came before it is handled first.
                await self._batch(ready, route, batch_handler, progress, revoked, done_ids)
                ready = []
                progress(tp, item.record.offset + 1, 1)
            else:
                ready.append((item, event))
        await self._batch(ready, route, batch_handler, progress, revoked, done_ids)

    async def _batch(
        self,
        ready: list[tuple[Item, Event]],
        route: Route,
        handler: BatchHandler,
        progress: Progress,
        revoked: Collection[TopicPartition],
        done_ids: list[str],
    ) -> None:
        if not ready:
            return
        first = ready[0][0].record
        tp = TopicPartition(first.topic, first.partition)
        started = time.perf_counter()
        try:
            await handler([(event, self._context(item, 1)) for item, event in ready])
        except Exception as exc:
            self._tally.failed[(first.topic, type(exc).__name__)] += 1
            self._log.warning(
                "batch handler failed; handling its events one at a time",
                topic=first.topic,
                partition=first.partition,
                offsets=[first.offset, ready[-1][0].record.offset],
                error=str(exc),
            )
            for item, event in ready:
                if tp in revoked:
                    raise Abandoned from exc
                item.event = event
                item.failed(exc)
                if await self._one(item, route, _single(handler), decoded=True):
                    assert item.envelope is not None
                    done_ids.append(item.envelope.id)
                progress(tp, item.record.offset + 1, 1)
            return
        except BaseException as exc:
            for item, _ in ready:
                self._trace.close(item, None if isinstance(exc, asyncio.CancelledError) else exc)
            raise
        elapsed = time.perf_counter() - started
        self._tally.handled[route] += len(ready)
        self._tally.latencies.append((route.latency, elapsed))
        for item, _ in ready:
            self._trace.close(item)
            assert item.envelope is not None
            done_ids.append(item.envelope.id)
        self._dlq.ok(len(ready))
        progress(tp, ready[-1][0].record.offset + 1, len(ready))

    async def _decode(self, item: Item) -> Event | None:
        """The item's event; None when the body does not decode (then dead-lettered)."""
        assert item.envelope is not None
        try:
            return self._catalog.decode(item.envelope)
        except InvalidEvent as exc:
            self._trace.close(item, exc)
            await self._dlq.send(item.record, exc, attempts=0)
            return None

    @staticmethod
    def _context(item: Item, attempt: int) -> MessageContext:
        record = item.record
        assert item.envelope is not None
        return message_context(
            item.envelope,
            record.topic,
            record.partition,
            record.offset,
            item.key,
            attempt,
            item.span,
        )

    async def _one(
        self,
        item: Item,
        route: Route,
        handler: Handler,
        *,
        decoded: bool = False,
    ) -> bool:
        """Handle one record, retrying; False when it was dead-lettered instead.

        Raises:
            Abandoned: the runner is stopping while a retry waits.
        """
        event: Event | None
        if decoded:
            event = item.event
        else:
            self._trace.open(item)
            assert item.envelope is not None
            try:
                event = self._catalog.decode(item.envelope)
            except InvalidEvent as exc:
                self._trace.close(item, exc)
                await self._dlq.send(item.record, exc, attempts=0)
                return False
        assert event is not None
        token = self._trace.activate(item)
        started = time.perf_counter()
        try:
            try:
                # The common case, without the retry machinery: one attempt that works.
                await handler(event, self._context(item, 1))
                error: Exception | None = None
            except Exception as first:
                error, attempts = await self._retries(item, event, handler, first)
        except Exception as exc:
            # As use_span does: an error is recorded; a cancellation (drain deadline) or
            # a stop during a retry wait (Abandoned) is not.
            self._trace.close(item, None if isinstance(exc, Abandoned) else exc)
            raise
        except BaseException:
            self._trace.close(item)
            raise
        finally:
            self._trace.detach(token)
        self._trace.close(item, error)
        if error is not None:
            await self._dlq.send(item.record, error, attempts=attempts)
            return False
        tally = self._tally
        tally.handled[route] += 1
        tally.latencies.append((route.latency, time.perf_counter() - started))
        self._dlq.ok()
        return True

    async def _retries(
        self, item: Item, event: Event, handler: Handler, first: Exception
    ) -> tuple[Exception | None, int]:
        """After attempt 1 raised `first`: retry while the policy allows.

        Returns (the last error or None once an attempt succeeded, attempts made).

        Raises:
            Abandoned: the runner is stopping while a retry waits.
        """
        record = item.record
        attempt, exc = 1, first
        while True:
            self._tally.failed[(record.topic, type(exc).__name__)] += 1
            item.failed(exc)
            if not self._retry.is_retryable(exc) or attempt >= self._retry.max_attempts:
                return exc, attempt
            delay = self._retry.backoff(attempt, self._rng)
            self._log.warning(
                "handler failed; retrying",
                topic=record.topic,
                offset=record.offset,
                attempt=attempt,
                delay=round(delay, 3),
                error=str(exc),
            )
            if await _wait_or_stop(self._stopping, delay):
                raise Abandoned from exc
            attempt += 1
            try:
                await handler(event, self._context(item, attempt))
            except Exception as again:
                exc = again
                continue
            return None, attempt


def _single(handler: BatchHandler) -> Handler:
    async def one(event: Event, ctx: MessageContext) -> None:
        await handler([(event, ctx)])

    return one


async def _wait_or_stop(stopping: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds`, or less if stopping; True when the runner is stopping."""
    if stopping.is_set():
        return True
    try:
        await asyncio.wait_for(stopping.wait(), seconds)
    except TimeoutError:
        return False
    return True
