"""The consumer runner: one consumer-group member that turns records into handler effects.

Guarantees:
- at least once: an offset is committed only after its handler's effect completed, or after
  its dead letter was acknowledged; on a crash, uncommitted records are delivered again and
  the de-duplication store (if given) skips those whose effect already happened;
- order per partition: records of a partition are handled one after another, retries
  included; partitions of a batch are handled concurrently;
- poison messages go to `<topic>.dlq` with the error and the original headers, and the
  partition keeps flowing; past the `DlqLimit` the runner halts instead;
- rebalance-safe: revoked partitions stop after their current record and are committed
  before they go; a commit refused mid-rebalance is logged, never fatal;
- `stop()` (SIGTERM) stops fetching, lets in-flight work finish within `drain_timeout`,
  commits, and closes the consumer.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaConnectionError
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from structlog.typing import FilteringBoundLogger

from shared._dead_letter import dead_letter_headers, dlq_topic
from shared._dedup import DedupStore
from shared._envelope import Envelope
from shared._errors import DlqLimitExceeded, InvalidEvent
from shared._event_model import EventCatalog, split_type
from shared._log_loss import LogLossGuard
from shared._metrics import PipelineMetrics
from shared._policies import CommitPolicy, DlqLimit, DlqWindow, RetryPolicy
from shared._producer import EventPublisher
from shared._routing import Handler, MessageContext, Router
from shared._tracing import context_from_traceparent
from shared._transport import (
    ConsumerClient,
    RebalanceCallbacks,
    Record,
    TopicPartition,
    Transport,
)

__all__ = ["ConsumerRunner"]


#: Bound of one commit, and of stopping the client at shutdown.
_SHUTDOWN_STEP_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class _Route:
    family: str
    handler: Handler
    handled: Any
    latency: Any


class _Abandoned(Exception):
    """A record given up on because the runner is stopping; it stays uncommitted."""


class ConsumerRunner:
    def __init__(
        self,
        *,
        transport: Transport,
        group_id: str,
        topics: Sequence[str],
        router: Router,
        catalog: EventCatalog,
        publisher: EventPublisher,
        logger: FilteringBoundLogger,
        metrics: PipelineMetrics,
        tracer: Tracer | None = None,
        dedup: DedupStore | None = None,
        commit_policy: CommitPolicy | None = None,
        retry_policy: RetryPolicy | None = None,
        dlq_limit: DlqLimit | None = None,
        drain_timeout: float = 10.0,
        max_batch: int = 500,
        poll_timeout_ms: int = 200,
        rng: random.Random | None = None,
    ) -> None:
        self.group_id = group_id
        self.topics = tuple(topics)
        self._transport = transport
        self._router = router
        self._catalog = catalog
        self._publisher = publisher
        self._log = logger.bind(group=group_id)
        self._metrics = metrics
        self._tracer = tracer or trace.NoOpTracer()
        self._dedup = dedup
        self._commit_policy = commit_policy or CommitPolicy()
        self._retry = retry_policy or RetryPolicy()
        self._dlq = DlqWindow(dlq_limit or DlqLimit())
        self._drain_timeout = drain_timeout
        self._max_batch = max_batch
        self._poll_timeout_ms = poll_timeout_ms
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography

        self._consumer: ConsumerClient | None = None
        self._stopping = asyncio.Event()
        self._batch_task: asyncio.Task[None] | None = None
        self._pending: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._revoked: set[TopicPartition] = set()
        self._commit_lock = asyncio.Lock()
        self._since_commit = 0
        self._last_commit = time.monotonic()
        self._lag_labels: set[tuple[str, str, str]] = set()
        self._routes: dict[tuple[str, str], _Route | str] = {}
        self._loss_guard = LogLossGuard(transport, self._log)
        self.assigned = asyncio.Event()
        """Set once this member holds partitions: a test or readiness check waits on it."""

    # -- lifecycle -------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the runner to stop; `run()` returns after draining and committing."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def run(self) -> None:
        """Consume until `stop()`.

        Raises:
            DlqLimitExceeded: too many poison messages; offsets of everything handled
                before the offending record are committed, that record is not.
        """
        consumer = self._transport.consumer(
            group_id=self.group_id,
            client_id=f"{self.group_id}-runner",
            max_poll_records=self._max_batch,
        )
        self._consumer = consumer
        consumer.subscribe_with(
            self.topics, RebalanceCallbacks(self._on_revoked, self._on_assigned)
        )
        await consumer.start()
        self._log.info("consumer started", topics=list(self.topics))
        try:
            while not self._stopping.is_set():
                batch = await self._poll(consumer)
                if batch:
                    await self._run_batch(batch)
                if self._commit_due():
                    await self._commit()
        except DlqLimitExceeded as exc:
            self._metrics.halted.labels(self.group_id).set(1)
            self._log.error("consumer halted: DLQ limit exceeded", reason=str(exc))
            raise
        finally:
            await self._shutdown(consumer)

    async def _shutdown(self, consumer: ConsumerClient) -> None:
        if self._batch_task is not None and not self._batch_task.done():
            self._batch_task.cancel()
            await asyncio.gather(self._batch_task, return_exceptions=True)
        await self._loss_guard.close()
        # Bounded: against a broker that lost the topic (a replaced cluster) the client
        # retries a commit forever; shutdown must meet its deadline whatever the broker did.
        try:
            await asyncio.wait_for(self._commit(), _SHUTDOWN_STEP_SECONDS)
        except TimeoutError:
            self._log.error("final commit did not finish in time; it is abandoned")
        try:
            await asyncio.wait_for(consumer.stop(), _SHUTDOWN_STEP_SECONDS)
        except TimeoutError:
            self._log.error("consumer client did not stop in time")
        self._log.info(
            "consumer stopped", committed={str(k): v for k, v in self._committed.items()}
        )

    async def _poll(self, consumer: ConsumerClient) -> dict[TopicPartition, list[Any]]:
        try:
            batch = await consumer.getmany(
                timeout_ms=self._poll_timeout_ms, max_records=self._max_batch
            )
            return await self._loss_guard.admit(batch)
        except KafkaConnectionError as exc:
            self._log.warning("fetch failed; retrying", error=str(exc))
            await self._wait_or_stop(1.0)
            return {}

    async def _run_batch(self, batch: dict[TopicPartition, list[Any]]) -> None:
        task = asyncio.create_task(self._process_batch(batch))
        self._batch_task = task
        stop_wait = asyncio.create_task(self._stopping.wait())
        try:
            done, _ = await asyncio.wait({task, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
            if task not in done:
                # Stopping: in-flight work gets its deadline, then is cancelled uncommitted.
                done, _ = await asyncio.wait({task}, timeout=self._drain_timeout)
                if not done:
                    self._log.warning("drain deadline passed; abandoning in-flight records")
                    task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        finally:
            stop_wait.cancel()
            self._batch_task = None

    async def _process_batch(self, batch: dict[TopicPartition, list[Any]]) -> None:
        results = await asyncio.gather(
            *(self._process_partition(tp, records) for tp, records in batch.items()),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        self._update_lag()

    async def _process_partition(self, tp: TopicPartition, records: list[Record]) -> None:
        for record in records:
            if tp in self._revoked:
                return  # revoked mid-batch: the new owner starts from our last commit
            try:
                await self._process_one(record)
            except _Abandoned:
                return
            self._pending[tp] = record.offset + 1
            self._since_commit += 1

    # -- one record ------------------------------------------------------------------

    def _route(self, topic: str, ce_type: str) -> _Route | str:
        """What to do with a type: its route, or the reason it is skipped. Cached per type.

        Raises:
            InvalidEvent: the type carries no major version.
        """
        key = (topic, ce_type)
        cached = self._routes.get(key)
        if cached is not None:
            return cached
        family, version = split_type(ce_type)
        handler = self._router.handler_for(family)
        latest = self._catalog.latest(family)
        route: _Route | str
        if handler is None or latest is None:
            route = "unrouted"
        elif version > latest.VERSION:
            # A newer major version published side by side: this reader keeps to its own.
            route = "newer_version"
        else:
            route = _Route(
                family=family,
                handler=handler,
                handled=self._metrics.handled.labels(self.group_id, topic, family),
                latency=self._metrics.handler_seconds.labels(self.group_id, topic),
            )
        self._routes[key] = route
        return route

    async def _process_one(self, record: Record) -> None:
        try:
            envelope = Envelope.from_kafka(record.headers, record.value)
            route = self._route(record.topic, envelope.type)
        except InvalidEvent as exc:
            await self._dead_letter(record, exc, attempts=0)
            return
        if isinstance(route, str):
            self._metrics.skipped.labels(self.group_id, record.topic, route).inc()
            self._dlq.record(dead_lettered=False)
            return
        if self._dedup is not None and await self._dedup.seen(self.group_id, envelope.id):
            self._metrics.skipped.labels(self.group_id, record.topic, "duplicate").inc()
            self._dlq.record(dead_lettered=False)
            return
        started = time.perf_counter()
        key = record.key.decode("utf-8", "replace") if record.key else None
        # start_span + attach rather than start_as_current_span: the same span and context,
        # without two context-manager layers per record (a third of the span's cost).
        span = self._tracer.start_span(
            f"{record.topic} process",
            context=context_from_traceparent(envelope.traceparent, envelope.tracestate),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": record.topic,
                "messaging.consumer.group.name": self.group_id,
                "messaging.kafka.offset": record.offset,
                "messaging.kafka.message.key": key or "",
                "messaging.message.id": envelope.id,
            },
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            if not await self._handle(record, envelope, route, span, key):
                return
        except Exception as exc:
            # As use_span does: an error is recorded; a cancellation (drain deadline) is not.
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, str(exc)))
            raise
        finally:
            otel_context.detach(token)
            span.end()
        if self._dedup is not None:
            await self._dedup.mark(self.group_id, envelope.id)
        self._dlq.record(dead_lettered=False)
        route.handled.inc()
        route.latency.observe(time.perf_counter() - started)

    async def _handle(
        self, record: Record, envelope: Envelope, route: _Route, span: Span, key: str | None
    ) -> bool:
        """Decode and run the handler, retrying; False when the record was dead-lettered.

        Raises:
            _Abandoned: the runner is stopping while a retry waits.
        """
        try:
            event = self._catalog.decode(envelope)
        except InvalidEvent as exc:
            span.set_status(Status(StatusCode.ERROR, str(exc)))
            await self._dead_letter(record, exc, attempts=0)
            return False
        attempt = 1
        while True:
            context = MessageContext(
                envelope=envelope,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                key=key,
                attempt=attempt,
            )
            try:
                await route.handler(event, context)
                return True
            except Exception as exc:
                self._metrics.failed.labels(self.group_id, record.topic, type(exc).__name__).inc()
                span.record_exception(exc)
                if not self._retry.is_retryable(exc) or attempt >= self._retry.max_attempts:
                    span.set_status(Status(StatusCode.ERROR, str(exc)))
                    await self._dead_letter(record, exc, attempts=attempt)
                    return False
                delay = self._retry.backoff(attempt, self._rng)
                self._log.warning(
                    "handler failed; retrying",
                    topic=record.topic,
                    offset=record.offset,
                    attempt=attempt,
                    delay=round(delay, 3),
                    error=str(exc),
                )
                if await self._wait_or_stop(delay):
                    raise _Abandoned from exc
                attempt += 1

    async def _dead_letter(self, record: Record, error: BaseException, *, attempts: int) -> None:
        self._dlq.record(dead_lettered=True)
        reason = self._dlq.exceeded()
        if reason is not None:
            raise DlqLimitExceeded(f"{self.group_id} on {record.topic}: {reason}") from error
        headers = dead_letter_headers(
            record.headers,
            error=error,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            group=self.group_id,
            attempts=attempts,
        )
        future = await self._publisher.publish_raw(
            dlq_topic(record.topic), key=record.key, value=record.value, headers=headers
        )
        await future
        self._metrics.dead_lettered.labels(self.group_id, record.topic).inc()
        self._log.error(
            "dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error_type=type(error).__name__,
            error=str(error),
            attempts=attempts,
        )

    async def _wait_or_stop(self, seconds: float) -> bool:
        """Wait `seconds`, or less if stopping; True when the runner is stopping."""
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            return False
        return True

    # -- commits and rebalances ----------------------------------------------------------

    def _commit_due(self) -> bool:
        if self._since_commit == 0:
            return False
        return (
            self._since_commit >= self._commit_policy.every_messages
            or time.monotonic() - self._last_commit >= self._commit_policy.every_seconds
        )

    async def _commit(self, partitions: Collection[TopicPartition] | None = None) -> None:
        consumer = self._consumer
        if consumer is None:
            return
        async with self._commit_lock:
            offsets = {
                tp: offset
                for tp, offset in self._pending.items()
                if (partitions is None or tp in partitions) and self._committed.get(tp) != offset
            }
            if not offsets:
                return
            offsets = self._loss_guard.before_commit(consumer, offsets)
            self._pending.update(offsets)
            try:
                # Bounded: for a topic the broker no longer has (a replaced cluster) the
                # client retries forever, which would stall this loop and its stop.
                await asyncio.wait_for(consumer.commit(offsets), _SHUTDOWN_STEP_SECONDS)
            except TimeoutError:
                self._log.warning("commit did not finish in time; retried with the next one")
                return
            except (CommitFailedError, IllegalStateError) as exc:
                # The group is rebalancing; the new owner re-reads from the last commit and
                # de-duplication absorbs the overlap. Crashing here would only loop.
                self._log.warning("commit refused during rebalance", error=str(exc))
                return
            self._committed.update(offsets)
            self._since_commit = 0
            self._last_commit = time.monotonic()

    async def _on_revoked(self, revoked: Collection[TopicPartition]) -> None:
        self._revoked.update(revoked)
        task = self._batch_task
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=self._drain_timeout)
        await self._commit(revoked)
        for tp in revoked:
            self._pending.pop(tp, None)
            self._committed.pop(tp, None)
            labels = (self.group_id, tp.topic, str(tp.partition))
            if labels in self._lag_labels:
                self._lag_labels.discard(labels)
                self._metrics.lag.remove(*labels)

    async def _on_assigned(self, assigned: Collection[TopicPartition]) -> None:
        self._revoked.difference_update(assigned)
        if self._consumer is not None:
            self._loss_guard.assigned(self._consumer, assigned)
        if assigned:
            self.assigned.set()
        self._log.info("partitions assigned", partitions=sorted(str(tp) for tp in assigned))

    def _update_lag(self) -> None:
        consumer = self._consumer
        if consumer is None:
            return
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            done = self._pending.get(tp, self._committed.get(tp))
            if highwater is None or done is None:
                continue
            labels = (self.group_id, tp.topic, str(tp.partition))
            self._metrics.lag.labels(*labels).set(max(0, highwater - done))
            self._lag_labels.add(labels)
