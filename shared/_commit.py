"""When offsets are committed, what is committed, and the rebalance and lag steps around it.

The commit policy is a small state machine (`CommitTracker`), kept apart from the client
that performs the commit (`Committer`):

    CLEAN ──advance──▶ DIRTY ──begin (policy due, revoke, stop)──▶ COMMITTING
      ▲                  ▲                                            │
      └────accepted──────┴─────────────refused (rebalancing)──────────┘

`advance` is called only once a record's effect is complete (or its dead letter is
acknowledged), so whatever `begin` hands out is safe to commit. A handler whose effect
becomes durable later (a write-behind buffer) gives the `Committer` a `DurabilityBarrier`:
every commit first awaits it, so what is committed is durable however the effects batch.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from structlog.typing import FilteringBoundLogger

from shared._log_loss import LogLossGuard
from shared._metrics import PipelineMetrics
from shared._policies import CommitPolicy
from shared._transport import CommitRefused, ConsumerClient, TopicPartition

#: Bound of one commit, and of stopping the client at shutdown.
SHUTDOWN_STEP_SECONDS = 5.0

__all__ = [
    "CommitState",
    "CommitTracker",
    "Committer",
    "DurabilityBarrier",
    "LagGauges",
    "Rebalance",
]

DurabilityBarrier = Callable[[], Awaitable[None]]
"""Returns once every effect the handlers reported done before the call is durable."""


class CommitState(enum.Enum):
    CLEAN = "clean"
    """Everything done is committed."""
    DIRTY = "dirty"
    """Some records are done but not committed."""
    COMMITTING = "committing"
    """A commit is in flight."""


class CommitTracker:
    """Offsets done and offsets committed, per partition, and whether a commit is due."""

    def __init__(self, policy: CommitPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self._policy = policy
        self._clock = clock
        self.state = CommitState.CLEAN
        self.pending: dict[TopicPartition, int] = {}
        self.committed: dict[TopicPartition, int] = {}
        self._since = 0
        self._last = clock()

    def advance(self, tp: TopicPartition, next_offset: int, count: int = 1) -> None:
        """`count` more records of `tp` are done; the next one to read is `next_offset`."""
        self.pending[tp] = next_offset
        self._since += count
        if self.state is CommitState.CLEAN:
            self.state = CommitState.DIRTY

    def due(self) -> bool:
        """True when the policy asks for a commit now."""
        return self.state is CommitState.DIRTY and (
            self._since >= self._policy.every_messages
            or self._clock() - self._last >= self._policy.every_seconds
        )

    def begin(
        self, partitions: Collection[TopicPartition] | None = None
    ) -> dict[TopicPartition, int]:
        """The offsets to commit now (of `partitions`, or all); empty when none changed."""
        offsets = {
            tp: offset
            for tp, offset in self.pending.items()
            if (partitions is None or tp in partitions) and self.committed.get(tp) != offset
        }
        if offsets:
            self.state = CommitState.COMMITTING
        return offsets

    def accepted(self, offsets: dict[TopicPartition, int]) -> None:
        self.committed.update(offsets)
        self._since = 0
        self._last = self._clock()
        self.state = CommitState.DIRTY if self._uncommitted() else CommitState.CLEAN

    def refused(self) -> None:
        """The group is rebalancing: the new owner re-reads from the last commit."""
        self.state = CommitState.DIRTY if self._uncommitted() else CommitState.CLEAN

    def forget(self, partitions: Collection[TopicPartition]) -> None:
        """Partitions gone to another member: their progress is no longer ours."""
        for tp in partitions:
            self.pending.pop(tp, None)
            self.committed.pop(tp, None)
        if self.state is CommitState.DIRTY and not self._uncommitted():
            self.state = CommitState.CLEAN

    def position(self, tp: TopicPartition) -> int | None:
        """The next offset this member will hand out as done (None: nothing known)."""
        return self.pending.get(tp, self.committed.get(tp))

    def _uncommitted(self) -> bool:
        return any(self.committed.get(tp) != offset for tp, offset in self.pending.items())


class Committer:
    """Performs the commits the tracker hands out; a refusal mid-rebalance is not fatal.

    With a `guard`, a position past its partition's log end (the broker lost what it had
    acknowledged) is never committed; every commit is bounded by `SHUTDOWN_STEP_SECONDS`
    (against a cluster that lost the topic the client would retry it forever).

    With a `barrier`, every commit (periodic, on revocation, at shutdown) awaits it after
    taking the offsets and before sending them, within the same bound: handlers may return
    before their effect is durable, and nothing is committed until it is. A barrier that
    fails or does not return in time leaves the offsets uncommitted, for the next commit.
    """

    def __init__(
        self,
        tracker: CommitTracker,
        logger: FilteringBoundLogger,
        *,
        guard: LogLossGuard | None = None,
        barrier: DurabilityBarrier | None = None,
    ) -> None:
        self._tracker = tracker
        self._log = logger
        self._guard = guard
        self._barrier = barrier
        self._lock = asyncio.Lock()
        self.consumer: ConsumerClient | None = None

    async def commit(self, partitions: Collection[TopicPartition] | None = None) -> None:
        consumer = self.consumer
        if consumer is None:
            return
        async with self._lock:
            offsets = self._tracker.begin(partitions)
            if not offsets:
                return
            if self._guard is not None:
                offsets = self._guard.before_commit(consumer, offsets)
                self._tracker.pending.update(offsets)
            try:
                await asyncio.wait_for(self._send(consumer, offsets), SHUTDOWN_STEP_SECONDS)
            except TimeoutError:
                self._tracker.refused()
                self._log.warning("commit did not finish in time; retried with the next one")
                return
            except _BarrierFailed as exc:
                self._tracker.refused()
                self._log.warning("durability barrier failed; not committed", error=str(exc))
                return
            except CommitRefused as exc:
                # The new owner re-reads from the last commit and de-duplication absorbs
                # the overlap. Crashing here would only loop.
                self._tracker.refused()
                self._log.warning("commit refused during rebalance", error=str(exc))
                return
            except BaseException:
                self._tracker.refused()
                raise
            self._tracker.accepted(offsets)

    async def _send(self, consumer: ConsumerClient, offsets: dict[TopicPartition, int]) -> None:
        if self._barrier is not None:
            try:
                await self._barrier()
            except Exception as exc:
                raise _BarrierFailed(str(exc)) from exc
        await consumer.commit(offsets)


class _BarrierFailed(Exception):
    """The durability barrier raised: the effects may not be durable, so no commit."""


class LagGauges:
    """`tabridge_consumer_lag` per owned partition: the high watermark minus what is done."""

    def __init__(self, metrics: PipelineMetrics, group: str) -> None:
        self._gauge = metrics.lag
        self._group = group
        self._children: dict[TopicPartition, Any] = {}

    def update(self, consumer: ConsumerClient, tracker: CommitTracker) -> None:
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            done = tracker.position(tp)
            if highwater is None or done is None:
                continue
            child = self._children.get(tp)
            if child is None:
                child = self._gauge.labels(self._group, tp.topic, str(tp.partition))
                self._children[tp] = child
            child.set(max(0, highwater - done))

    def forget(self, partitions: Collection[TopicPartition]) -> None:
        for tp in partitions:
            if self._children.pop(tp, None) is not None:
                self._gauge.remove(self._group, tp.topic, str(tp.partition))


class Rebalance:
    """The group's callbacks: revoked partitions stop after their current record, are
    committed and forgotten; an assignment is announced (`assigned`)."""

    def __init__(
        self,
        *,
        tracker: CommitTracker,
        committer: Committer,
        lag: LagGauges,
        in_flight: Callable[[], asyncio.Task[None] | None],
        drain_timeout: float,
        logger: FilteringBoundLogger,
        guard: LogLossGuard | None = None,
    ) -> None:
        self._guard = guard
        self._tracker = tracker
        self._committer = committer
        self._lag = lag
        self._in_flight = in_flight
        self._drain_timeout = drain_timeout
        self._log = logger
        self.revoked: set[TopicPartition] = set()
        self.assigned = asyncio.Event()

    async def on_revoked(self, revoked: Collection[TopicPartition]) -> None:
        self.revoked.update(revoked)
        task = self._in_flight()
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=self._drain_timeout)
        await self._committer.commit(revoked)
        self._tracker.forget(revoked)
        self._lag.forget(revoked)

    async def on_assigned(self, assigned: Collection[TopicPartition]) -> None:
        self.revoked.difference_update(assigned)
        consumer = self._committer.consumer
        if self._guard is not None and consumer is not None:
            self._guard.assigned(consumer, assigned)
        if assigned:
            self.assigned.set()
        self._log.info("partitions assigned", partitions=sorted(str(tp) for tp in assigned))
