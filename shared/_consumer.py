"""The consumer runner: one consumer-group member that turns batches of records into
handler effects, composed of the steps in `shared._steps` and `shared._commit`.

Guarantees:
- at least once: an offset is committed only after its handler's effect completed, or after
  its dead letter was acknowledged, and after the batch's event ids were written to the
  de-duplication store (if given); on a crash, uncommitted records are delivered again and
  the store skips those whose effect already happened;
- order per partition: records of a partition are handled one after another (a batch
  handler gets a run of them at once, in order), retries included; partitions of a batch
  are handled concurrently;
- poison messages go to `<topic>.dlq` with the error and the original headers, and the
  partition keeps flowing; past the `DlqLimit` the runner halts instead; redriven ones
  come back on the group's own retry topic (`retry_topic`), so no other group sees them;
- rebalance-safe: revoked partitions stop after their current record and are committed
  before they go; a commit refused mid-rebalance is logged, never fatal;
- `stop()` (SIGTERM) stops fetching, lets in-flight work finish within `drain_timeout`,
  commits, and closes the consumer.

One loop turn: `getmany` → the batch's steps → at most one commit (when the policy says it
is due). The batch costs one de-duplication look-up and write, one metric update per label
and one batch span linking to each record's context, whatever its size; a record's handler
runs in the trace of the change it carries, so what it does continues that trace, and
`ta-bridge trace` follows the change through the link. A record whose handling failed gets
a process span of its own in that trace, with the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Tracer
from structlog.typing import FilteringBoundLogger

from shared._commit import (
    SHUTDOWN_STEP_SECONDS,
    Committer,
    CommitTracker,
    DurabilityBarrier,
    LagGauges,
    Rebalance,
)
from shared._dedup import DedupStore
from shared._errors import DlqLimitExceeded
from shared._event_model import EventCatalog
from shared._log_loss import LogLossGuard
from shared._metrics import PipelineMetrics
from shared._policies import CommitPolicy, DlqLimit, DlqWindow, RetryPolicy
from shared._producer import EventPublisher
from shared._routing import Router
from shared._steps import (
    DeadLetters,
    DecodeEnvelopes,
    Item,
    RouteByType,
    RunHandlers,
    SkipDuplicates,
    Tally,
    TraceRecords,
)
from shared._transport import (
    BrokerUnavailable,
    ConsumerClient,
    RebalanceCallbacks,
    Record,
    TopicPartition,
    Transport,
)

__all__ = ["ConsumerRunner"]


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
        retry_topic: str | None = None,
        durability_barrier: DurabilityBarrier | None = None,
    ) -> None:
        """`retry_topic` (`shared.retry_topic`, created with the service's topics) is read
        alongside `topics` and named in this group's dead letters: a redrive of them
        writes there, so only this group sees them again."""
        self.group_id = group_id
        self.topics = tuple(topics) if retry_topic is None else (*topics, retry_topic)
        self._transport = transport
        self._log = logger.bind(group=group_id)
        self._metrics = metrics
        self._drain_timeout = drain_timeout
        self._max_batch = max_batch
        self._poll_timeout_ms = poll_timeout_ms
        self._stopping = asyncio.Event()
        self._batch_task: asyncio.Task[None] | None = None
        self._consumer: ConsumerClient | None = None

        # The steps, in the order a batch meets them.
        self._decode = DecodeEnvelopes()
        self._route = RouteByType(router, catalog, metrics, group_id)
        self._dedup = SkipDuplicates(dedup, group_id) if dedup is not None else None
        self._tally = Tally(metrics, group_id)
        self._trace = TraceRecords(tracer or trace.NoOpTracer(), group_id)
        self._dead_letters = DeadLetters(
            publisher,
            DlqWindow(dlq_limit or DlqLimit()),
            group=group_id,
            tally=self._tally,
            logger=self._log,
            retry_topic=retry_topic,
        )
        self._handlers = RunHandlers(
            catalog=catalog,
            retry=retry_policy or RetryPolicy(),
            dead_letters=self._dead_letters,
            tracing=self._trace,
            tally=self._tally,
            stopping=self._stopping,
            logger=self._log,
            rng=rng or random.Random(),  # noqa: S311 - jitter, not cryptography
            dedup=dedup is not None,
        )
        self._tracker = CommitTracker(commit_policy or CommitPolicy())
        self._loss_guard = LogLossGuard(transport, self._log)
        self._committer = Committer(
            self._tracker, self._log, guard=self._loss_guard, barrier=durability_barrier
        )
        self._lag = LagGauges(metrics, group_id)
        self._rebalance = Rebalance(
            tracker=self._tracker,
            committer=self._committer,
            lag=self._lag,
            in_flight=lambda: self._batch_task,
            drain_timeout=drain_timeout,
            logger=self._log,
            guard=self._loss_guard,
        )
        self.assigned = self._rebalance.assigned
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
        self._consumer = self._committer.consumer = consumer
        consumer.subscribe_with(
            self.topics,
            RebalanceCallbacks(self._rebalance.on_revoked, self._rebalance.on_assigned),
        )
        await consumer.start()
        self._log.info("consumer started", topics=list(self.topics))
        try:
            while not self._stopping.is_set():
                batch = await self._poll(consumer)
                if batch:
                    await self._run_batch(batch)
                if self._tracker.due():
                    await self._committer.commit()
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
        await self._committer.commit()
        try:
            await asyncio.wait_for(consumer.stop(), SHUTDOWN_STEP_SECONDS)
        except TimeoutError:
            self._log.error("consumer client did not stop in time")
        self._log.info(
            "consumer stopped",
            committed={str(k): v for k, v in self._tracker.committed.items()},
        )

    async def _poll(self, consumer: ConsumerClient) -> dict[TopicPartition, list[Any]]:
        try:
            batch = await consumer.getmany(
                timeout_ms=self._poll_timeout_ms, max_records=self._max_batch
            )
            return await self._loss_guard.admit(batch)
        except BrokerUnavailable as exc:
            self._log.warning("fetch failed; retrying", error=str(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), 1.0)
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

    # -- one batch -------------------------------------------------------------------

    async def _process_batch(self, batch: dict[TopicPartition, list[Record]]) -> None:
        started_ns = time.time_ns()
        parts = [(tp, self._decode(records)) for tp, records in batch.items()]
        items: list[Item] = [item for _, part in parts for item in part]
        self._route(items)
        if self._dedup is not None:
            await self._dedup.check(items)
        done_ids: list[str] = []
        seen_ids: set[str] = set()
        try:
            if len(parts) == 1:
                [(tp, part)] = parts
                await self._partition(tp, part, done_ids, seen_ids)
            else:
                results = await asyncio.gather(
                    *(self._partition(tp, part, done_ids, seen_ids) for tp, part in parts),
                    return_exceptions=True,
                )
                for result in results:
                    if isinstance(result, BaseException):
                        raise result
        finally:
            # The effects that completed are remembered before anything is committed, also
            # when the batch ends early (a halt, a crash of the handler, the drain deadline).
            if self._dedup is not None and done_ids:
                await self._dedup.remember(done_ids)
            self._tally.flush()
            self._dead_letters.flush()
            self._trace.batch(items, sorted({tp.topic for tp in batch}), started_ns)
        if self._consumer is not None:
            self._lag.update(self._consumer, self._tracker)

    async def _partition(
        self, tp: TopicPartition, items: list[Item], done_ids: list[str], seen_ids: set[str]
    ) -> None:
        await self._handlers.partition(
            tp,
            items,
            progress=self._tracker.advance,
            revoked=self._rebalance.revoked,
            done_ids=done_ids,
            seen_ids=seen_ids,
        )
