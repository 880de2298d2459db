"""The delivery engine: queue durably, then deliver lane by lane.

A *lane* is one activity's deliveries for one subscription. Each lane with pending work
has one task that delivers its head (lowest ``seq``) until it is delivered or exhausted,
then moves on, so a later event never overtakes an earlier one. A retry waits in its own
lane's task (no dispatch loop to block). Lanes are independent:
a slow or dead endpoint delays only its own lanes. HTTP concurrency is bounded twice: per
subscription (acquired first, so a stuck endpoint's lanes wait without holding a global
slot) and overall.

When an endpoint that was failing answers 2xx again, the lanes of its subscription that
are waiting out a retry delay try at once instead of sleeping on (a 10-minute outage
would otherwise be followed by up to 30 minutes of waiting); each lane keeps its order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta

from structlog.typing import FilteringBoundLogger

from .attempts import attempt_record, delivery_after
from .clock import Clock
from .deliveries import AttemptOutcome, Delivery, DeliveryStatus, Lane
from .events import IncomingEvent
from .filters import CommunityMembers, recipients
from .metrics import DeliveryMetrics, NullMetrics
from .schedule import RetrySchedule
from .sender import WebhookSender
from .signing import webhook_headers
from .store import NotifierStore
from .subscriptions import Subscription, SubscriptionStatus
from .write_behind import DeliveryWriter

DeadLetter = Callable[[Delivery], Awaitable[None]]
#: Told when a subscription becomes disabled, with a reason code: ``gone`` (HTTP 410),
#: ``failing_window`` or ``partner``; called before the status is stored, retried until it
#: returns, so a crash in between repeats the notice rather than losing it.
Disabled = Callable[[Subscription, str], Awaitable[None]]
Logger = logging.Logger | FilteringBoundLogger


@dataclass(frozen=True)
class DispatchLimits:
    """Concurrency and endpoint-health settings."""

    max_in_flight: int = 64
    per_subscription: int = 4
    failure_window: timedelta = timedelta(days=5)


class _Slots:
    """A FIFO counting semaphore whose acquire and release are O(1).

    ``asyncio.Semaphore`` on Python 3.11 scans its waiters on every acquire (``locked()``)
    and release; a burst parks hundreds of lanes on one subscription's slots, which made the
    semaphores a tenth of the dispatcher's CPU. A released slot is handed straight to the
    longest waiter.
    """

    def __init__(self, count: int) -> None:
        self._free = count
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def __aenter__(self) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # the slot was handed over as we were cancelled: pass it on
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._release()

    def _release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


@dataclass
class _LaneState:
    """A lane's pending deliveries in ``seq`` order, held in memory while its task runs.

    ``loaded`` is False when the store may hold pending deliveries of the lane that the
    queue lacks (after a restart, a resume, or a lane that stopped with work left): the
    task reads them first.
    """

    queue: deque[Delivery] = field(default_factory=deque)
    loaded: bool = True
    task: asyncio.Task[None] | None = None


class Dispatcher:
    """Owns the lane tasks. ``start`` resumes stored work; ``close`` cancels and awaits it.

    The store is read when a lane starts from stored work, not before each attempt: a lane's
    deliveries are queued in memory once durably stored, and attempts are written behind
    (:class:`~services.notifier.write_behind.DeliveryWriter`) in batched transactions.
    """

    def __init__(
        self,
        *,
        store: NotifierStore,
        sender: WebhookSender,
        clock: Clock,
        schedule: RetrySchedule,
        community_members: CommunityMembers,
        dead_letter: DeadLetter,
        on_disabled: Disabled | None = None,
        metrics: DeliveryMetrics | None = None,
        limits: DispatchLimits | None = None,
        logger: Logger | None = None,
        writer: DeliveryWriter | None = None,
    ) -> None:
        self._store = store
        self._sender = sender
        self._clock = clock
        self._schedule = schedule
        self._members = community_members
        self._dead_letter = dead_letter
        self._on_disabled = on_disabled
        self._metrics = metrics or NullMetrics()
        self._limits = limits or DispatchLimits()
        self._log: Logger = logger or logging.getLogger(__name__)
        self._writer = writer or DeliveryWriter(store, logger=self._log)
        self._lanes: dict[Lane, _LaneState] = {}
        #: Lanes whose task stopped with work left (paused, deleted, failed): the store
        #: holds more of them than memory, so a new delivery for one reloads the lane.
        self._stored_only: set[Lane] = set()
        #: Per subscription: set (and replaced) when its failing endpoint answers again.
        self._recovered: dict[str, asyncio.Event] = {}
        self._in_flight = _Slots(self._limits.max_in_flight)
        self._per_subscription: dict[str, _Slots] = {}
        self._closed = False

    @property
    def busy_lanes(self) -> int:
        return len(self._lanes)

    @property
    def writer(self) -> DeliveryWriter:
        return self._writer

    async def start(self) -> None:
        """Resume every lane that has pending deliveries (after a restart)."""
        await self._writer.start()
        for lane in await self._store.pending_lanes():
            self._kick(lane)

    async def accept(self, event: IncomingEvent) -> list[Delivery]:
        """Queue ``event`` for every matching subscription; durable when this returns.

        Idempotent per (subscription, event id): a redelivered Kafka message adds nothing.
        Raises whatever the store raises; then nothing was queued and the caller retries.
        Concurrent calls share one transaction.
        """
        wanted = recipients(event, await self._store.routable_subscriptions(), self._members)
        now = self._clock.now()
        return await self.submit([Delivery.for_event(event, s.id, now=now) for s in wanted])

    async def hand_over(self, event: IncomingEvent) -> None:
        """Queue ``event`` like :meth:`accept`, without waiting for the store: its deliveries
        are durable (and start) with the writer's next batch, and by the time
        :meth:`durable` returns. The consumer uses this and gives :meth:`durable` to the
        runner as its durability barrier, awaited before every offset commit; a failed
        write is retried, never lost.
        """
        wanted = recipients(event, await self._store.routable_subscriptions(), self._members)
        now = self._clock.now()
        deliveries = [Delivery.for_event(event, s.id, now=now) for s in wanted]
        await self._writer.enqueue_later(deliveries, then=self._queued)

    async def hand_over_many(self, events: Sequence[IncomingEvent]) -> None:
        """:meth:`hand_over` for several events at once, in order, with the subscriptions
        read once. Each event's deliveries are handed over on their own, so the writer can
        store a long run in several bounded transactions and the first lanes start sending
        while the rest are written."""
        subscriptions = await self._store.routable_subscriptions()
        now = self._clock.now()
        for event in events:
            wanted = recipients(event, subscriptions, self._members)
            await self._writer.enqueue_later(
                [Delivery.for_event(event, s.id, now=now) for s in wanted], then=self._queued
            )

    async def durable(self) -> None:
        """Return once everything handed over before the call is stored."""
        await self._writer.flush()

    def _queued(self, added: list[Delivery]) -> None:
        if added:
            self._metrics.enqueued(len(added))
        for delivery in added:
            self._kick(delivery.lane, delivery)

    async def submit(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        """Store new deliveries (new events or redrives) and start their lanes."""
        added = await self._writer.enqueue(deliveries) if deliveries else []
        self._queued(added)
        return added

    async def resume(self, subscription_id: str) -> None:
        """Start the lanes of a subscription that became active again."""
        await self._writer.flush()
        for lane in await self._store.pending_lanes(subscription_id):
            self._kick(lane)

    async def disable(
        self, subscription: Subscription, reason: str, *, code: str = "partner"
    ) -> Subscription:
        """Disable a subscription; its pending deliveries end failed and are dead-lettered.

        ``code`` (``gone``, ``failing_window``, ``partner``) is what ``on_disabled`` is told.
        """
        current = await self._store.get_subscription(subscription.id) or subscription
        if current.status is SubscriptionStatus.DISABLED:
            disabled = current
        else:
            disabled = current.with_status(
                SubscriptionStatus.DISABLED, now=self._clock.now(), reason=reason
            )
            hook = self._on_disabled
            if hook is not None:
                await self._until_done(f"disable notice of {subscription.id}", hook, disabled, code)
            await self._store.save_subscription(disabled)
            self._log.warning("subscription %s disabled: %s", subscription.id, reason)
        await self._writer.flush()
        failed = await self._store.fail_pending(
            subscription.id, error=f"subscription disabled: {reason}", at=self._clock.now()
        )
        for lane, state in self._lanes.items():
            if lane.subscription_id == subscription.id:
                state.queue.clear()
        for delivery in failed:
            await self._hand_to_dead_letter(delivery)
            self._metrics.failed()
        return disabled

    async def close(self) -> None:
        """Stop every lane, then write what is buffered; an attempt in flight is abandoned
        and retried after restart."""
        self._closed = True
        tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._lanes.clear()
        await self._writer.close()

    def _kick(self, lane: Lane, delivery: Delivery | None = None) -> None:
        """Start the lane (``delivery``: just stored, else: stored work to read)."""
        if self._closed:
            return
        state = self._lanes.get(lane)
        if state is None:
            loaded = delivery is not None and lane not in self._stored_only
            self._stored_only.discard(lane)
            state = _LaneState(loaded=loaded)
            self._lanes[lane] = state
            state.task = asyncio.create_task(self._run_lane(lane, state), name=f"lane {lane}")
        elif delivery is None:
            state.loaded = False
        if delivery is not None:
            state.queue.append(delivery)

    async def _run_lane(self, lane: Lane, state: _LaneState) -> None:
        try:
            while True:
                try:
                    if not await self._step(lane, state):
                        return
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # A store outage must not end the lane: the work is durable, so back off
                    # and look again.
                    self._log.exception("lane %s failed; backing off", lane)
                    state.loaded = False
                    await self._clock.sleep_until(
                        self._clock.now() + self._schedule.delay_before(2)
                    )
        finally:
            if self._lanes.get(lane) is state:
                del self._lanes[lane]
                if state.queue or not state.loaded:
                    self._stored_only.add(lane)

    async def _load(self, lane: Lane, state: _LaneState) -> None:
        """Merge the lane's stored pending deliveries into its queue (by id, in seq order)."""
        await self._writer.flush()
        stored = await self._store.lane_pending(lane)
        merged = {d.id: d for d in stored}
        for d in state.queue:
            merged.setdefault(d.id, d)
        state.queue = deque(sorted(merged.values(), key=lambda d: d.seq))
        state.loaded = True

    async def _step(self, lane: Lane, state: _LaneState) -> bool:
        """Advance the lane by one action; False when the lane has nothing more to do."""
        if not state.loaded:
            await self._load(lane, state)
        if not state.queue:
            return False
        head = state.queue[0]
        subscription = await self._store.get_subscription(lane.subscription_id)
        if subscription is None or subscription.status is SubscriptionStatus.PAUSED:
            return False
        if subscription.status is SubscriptionStatus.DISABLED:
            await self.disable(subscription, subscription.disabled_reason or "disabled")
            return True
        if head.attempts >= self._schedule.max_attempts:
            await self._exhaust(head)
            self._pop(state, head)
            return True
        current = await self._when_due(subscription, head)
        # Not active any more, or disabled meanwhile (the queue was failed and cleared):
        # the next step sees why.
        if current is not None and state.queue and state.queue[0] is head:
            await self._attempt(current, head, state)
        return True

    async def _when_due(self, subscription: Subscription, head: Delivery) -> Subscription | None:
        """Wait until ``head`` may be attempted; the subscription then, if still active."""
        current: Subscription | None = subscription
        if head.next_attempt_at > self._clock.now():
            await self._retry_wait(subscription.id, head)
            # The partner may have paused, changed or deleted it while we slept.
            current = await self._store.get_subscription(subscription.id)
        if current is None or current.status is not SubscriptionStatus.ACTIVE:
            return None
        return current

    async def _retry_wait(self, subscription_id: str, head: Delivery) -> None:
        """Sleep until ``head`` is due, or until its endpoint is seen answering again."""
        recovered = self._recovered.setdefault(subscription_id, asyncio.Event())
        sleeping = asyncio.ensure_future(self._clock.sleep_until(head.next_attempt_at))
        waking = asyncio.ensure_future(recovered.wait())
        try:
            await asyncio.wait({sleeping, waking}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (sleeping, waking):
                waiter.cancel()
            await asyncio.gather(sleeping, waking, return_exceptions=True)

    def _wake_retries(self, subscription_id: str) -> None:
        event = self._recovered.pop(subscription_id, None)
        if event is not None:
            event.set()

    @staticmethod
    def _pop(state: _LaneState, head: Delivery) -> None:
        if state.queue and state.queue[0] is head:
            state.queue.popleft()

    async def _attempt(self, subscription: Subscription, head: Delivery, state: _LaneState) -> None:
        slots = self._per_subscription.get(subscription.id)
        if slots is None:
            slots = self._per_subscription[subscription.id] = _Slots(self._limits.per_subscription)
        async with slots, self._in_flight:
            now = self._clock.now()
            headers = webhook_headers(
                subscription.secrets_in_force(now),
                msg_id=head.event_id,
                timestamp=int(now.timestamp()),
                body=head.body,
            )
            headers["content-type"] = "application/json"
            if head.generation:
                # A redrive: the same webhook-id, numbered, so a receiver can tell it from
                # a first delivery (and de-duplicate on the id either way).
                headers["webhook-redelivery"] = str(head.generation)
            if head.traceparent:
                headers["traceparent"] = head.traceparent
            result = await self._sender.send(
                subscription.url, headers=headers, body=head.body, now=now
            )
        finished = self._clock.now()
        attempt = attempt_record(head, result, started_at=now)
        metrics = self._metrics
        latency = result.latency_ms / 1000
        if result.outcome is AttemptOutcome.DELIVERED:
            self._pop(state, head)

            def delivered() -> None:
                metrics.attempted(result.outcome, latency)
                metrics.delivered()

            await self._writer.record(
                attempt, delivery_after(head, result, at=finished), then=delivered
            )
            if subscription.failing_since is not None:
                await self._writer.flush()
                await self._store.note_endpoint_success(subscription.id)
                self._wake_retries(subscription.id)
            return
        updated = delivery_after(
            head,
            result,
            at=finished,
            next_attempt_at=self._schedule.next_attempt_at(
                now=finished, attempt=head.attempts + 2, retry_after=result.retry_after
            ),
        )
        if state.queue and state.queue[0] is head:
            state.queue[0] = updated
        await self._writer.record(
            attempt, updated, then=lambda: metrics.attempted(result.outcome, latency)
        )
        await self._writer.flush()
        if result.outcome is AttemptOutcome.GONE:
            await self.disable(subscription, "the endpoint answered 410 Gone", code="gone")
            return
        failing_since = await self._store.note_endpoint_failure(subscription.id, finished)
        if failing_since is not None and finished - failing_since >= self._limits.failure_window:
            await self.disable(
                subscription,
                f"the endpoint has failed since {failing_since}",
                code="failing_window",
            )

    async def _exhaust(self, delivery: Delivery) -> None:
        """Dead-letter, then mark failed: a crash in between dead-letters it twice, not never."""
        await self._writer.flush()  # the dead letter lists the attempts made
        await self._hand_to_dead_letter(delivery)
        failed = replace(delivery, status=DeliveryStatus.FAILED, finished_at=self._clock.now())
        await self._store.update_delivery(failed)
        self._metrics.failed()
        self._log.warning("delivery %s of %s exhausted", delivery.id, delivery.event_id)

    async def _hand_to_dead_letter(self, delivery: Delivery) -> None:
        await self._until_done(
            f"dead-letter hand-off of {delivery.id}", self._dead_letter, delivery
        )

    async def _until_done(
        self, what: str, call: Callable[..., Awaitable[None]], *args: object
    ) -> None:
        """Await ``call(*args)`` until it succeeds, backing off on the retry schedule."""
        attempt = 1
        while True:
            try:
                await call(*args)
                return
            except Exception:
                self._log.exception("%s failed; retrying", what)
                attempt += 1
                retry_at = self._schedule.next_attempt_at(now=self._clock.now(), attempt=attempt)
                await self._clock.sleep_until(retry_at)
