"""Write-behind for the delivery path: many deliveries and attempts, one transaction.

The dispatcher hands its writes here instead of running a statement per delivery:

- ``enqueue(deliveries)`` (new events, redrives) returns once the batch holding them is
  committed, so the consumer's handler, which awaits it, still makes its effect durable
  before the runner commits the Kafka offset. Concurrent callers share one transaction
  (group commit); a redelivered record adds nothing (de-duplication on subscription, event
  id and generation in the store).
- ``enqueue_later(deliveries, then)`` returns once buffered; ``then(added)`` runs when they
  are durable, and a failed write is retried. The consumer's handler uses it and
  the consumer runner's durability barrier (``Dispatcher.durable``) calls ``flush`` before
  each offset commit: durable before the commit, without a round trip per record.
- ``record(attempt, delivery, then)`` returns at once (unless the window is full) and runs
  ``then`` when the attempt is durable. An attempt lost to a crash leaves its delivery
  pending, so it is sent again after a restart: at least once, with the same webhook-id.
- ``flush()`` returns when everything handed over before the call is durable: the
  dispatcher calls it before reading delivery state back from the store.

Batches are natural: one flusher writes whatever accumulated while the previous
transaction ran, up to ``max_batch`` rows, of which at most ``max_new_batch`` new
deliveries: their lanes start only once they are stored, so a burst handed over at once is
stored a few events at a time and its first webhooks go out while the rest are written
(one 500-row transaction held the first lanes back by a whole transaction plus the loop
turns the later ones took). When only attempts wait (nobody awaits them:
no new deliveries, no ``flush``), the flusher lingers up to ``linger_seconds`` so that a
burst's attempts share fewer transactions (each commit rewrites the pages it touched);
new deliveries, a ``flush``, a full batch or ``close`` end the wait at once. (The
transaction runs on the event loop, see :mod:`~services.notifier.sqlite_db`, so the row
bound also bounds how long it holds the loop.)
The window is bounded by ``max_buffered`` handed-over writes; past it ``record`` and
``enqueue_later`` wait, so a stalled store slows the senders and the consumer down instead
of growing memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from structlog.typing import FilteringBoundLogger

from .deliveries import Attempt, Delivery
from .store import NotifierStore

Logger = logging.Logger | FilteringBoundLogger
Then = Callable[[], None]


@dataclass(slots=True)
class _Enqueue:
    seq: int
    deliveries: Sequence[Delivery]
    #: Awaited (``enqueue``): told the result or the store's error. Handed over
    #: (``enqueue_later``): ``then`` gets the added deliveries; kept for retry on an error.
    done: asyncio.Future[list[Delivery]] | None = None
    then: Callable[[list[Delivery]], None] | None = None


@dataclass(slots=True)
class _Record:
    seq: int
    attempt: Attempt
    delivery: Delivery
    then: Then | None


@dataclass(slots=True)
class _Batch:
    enqueues: list[_Enqueue] = field(default_factory=list)
    records: list[_Record] = field(default_factory=list)


class DeliveryWriter:
    """Batches the dispatcher's store writes; ``start`` before use, ``close`` to flush."""

    def __init__(
        self,
        store: NotifierStore,
        *,
        max_batch: int = 500,
        max_new_batch: int = 100,
        max_buffered: int = 10_000,
        retry_seconds: float = 1.0,
        linger_seconds: float = 0.01,
        logger: Logger | None = None,
    ) -> None:
        self._store = store
        self._max_batch = max_batch
        self._max_new = min(max_new_batch, max_batch)
        self._retry_seconds = retry_seconds
        self._linger = linger_seconds
        self._log: Logger = logger or logging.getLogger(__name__)
        self._enqueues: deque[_Enqueue] = deque()
        self._records: deque[_Record] = deque()
        self._room = asyncio.Semaphore(max_buffered)
        self._wake = asyncio.Event()
        #: Set when a write is awaited (new deliveries, a flush, a full batch, close).
        self._hurry = asyncio.Event()
        self._handed = 0  # writes handed over so far; each write's seq is its number
        self._in_flight: _Batch | None = None
        self._settled = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.batches = 0
        """Transactions committed (for the bench's report and tests)."""

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="notifier write-behind")

    async def close(self) -> None:
        """Write what is buffered (one try if the store fails), then stop."""
        if self._task is None:
            return
        task, self._task = self._task, None
        self._closing = True
        self._hurry.set()
        self._wake.set()
        await task
        for pending in self._enqueues:
            if pending.done is not None and not pending.done.done():
                pending.done.set_exception(RuntimeError("the delivery writer is closed"))
        self._enqueues.clear()
        self._records.clear()  # left pending in the store: sent again after a restart
        await self._settle()

    async def enqueue(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        """Store new deliveries; durable when this returns. Raises what the store raised."""
        if not deliveries:
            return []
        if self._task is None:
            raise RuntimeError("the delivery writer is not started")
        done: asyncio.Future[list[Delivery]] = asyncio.get_running_loop().create_future()
        self._handed += 1
        self._enqueues.append(_Enqueue(self._handed, deliveries, done=done))
        self._hurry.set()
        self._wake.set()
        return await done

    async def enqueue_later(
        self, deliveries: Sequence[Delivery], then: Callable[[list[Delivery]], None]
    ) -> None:
        """Hand over new deliveries; ``then(added)`` runs once they are durable."""
        if not deliveries:
            return
        if self._task is None:
            raise RuntimeError("the delivery writer is not started")
        await self._room.acquire()
        self._handed += 1
        self._enqueues.append(_Enqueue(self._handed, deliveries, then=then))
        self._hurry.set()
        self._wake.set()

    async def record(self, attempt: Attempt, delivery: Delivery, then: Then | None = None) -> None:
        """Hand over an attempt and its delivery's new state; ``then`` runs once durable."""
        await self._room.acquire()
        self._handed += 1
        self._records.append(_Record(self._handed, attempt, delivery, then))
        if len(self._records) >= self._max_batch:
            self._hurry.set()
        self._wake.set()

    async def flush(self) -> None:
        """Return once every write handed over before this call is settled."""
        target = self._handed
        if self._oldest_unsettled() <= target:
            self._hurry.set()
        async with self._settled:
            await self._settled.wait_for(lambda: self._oldest_unsettled() > target)

    def _oldest_unsettled(self) -> int:
        """The lowest seq not yet settled (each queue and a batch are in seq order)."""
        heads = [q[0].seq for q in (self._enqueues, self._records) if q]
        batch = self._in_flight
        if batch is not None:
            heads += [items[0].seq for items in (batch.enqueues, batch.records) if items]
        return min(heads, default=self._handed + 1)

    def _take(self) -> _Batch:
        batch = _Batch()
        size = 0
        while self._enqueues and size < self._max_new:
            item = self._enqueues.popleft()
            batch.enqueues.append(item)
            size += len(item.deliveries)
        while self._records and size < self._max_batch:
            batch.records.append(self._records.popleft())
            size += 1
        return batch

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._linger > 0 and not self._hurry.is_set():
                # Only attempts wait: let a few milliseconds' worth join this transaction.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._hurry.wait(), self._linger)
            self._hurry.clear()
            # Let the tasks that are ready now hand over their writes too.
            await asyncio.sleep(0)
            while self._enqueues or self._records:
                batch = self._take()
                self._in_flight = batch
                try:
                    await self._write(batch)
                except Exception:
                    self._log.exception("write-behind batch failed; retrying")
                    self._put_back(batch)
                    if self._closing:
                        return
                    await asyncio.sleep(self._retry_seconds)
                finally:
                    self._in_flight = None
                    await self._settle()
                # A transaction runs on the loop: let the lanes it started (and the rest of
                # the service) run before the next one.
                await asyncio.sleep(0)
            if self._closing:
                return

    def _put_back(self, batch: _Batch) -> None:
        """Attempts and handed-over enqueues are kept for the next try; awaited enqueues
        were failed back to their callers."""
        self._records.extendleft(reversed(batch.records))
        self._enqueues.extendleft(e for e in reversed(batch.enqueues) if e.done is None)

    async def _write(self, batch: _Batch) -> None:
        new = [d for item in batch.enqueues for d in item.deliveries]
        pairs = [(r.attempt, r.delivery) for r in batch.records]
        try:
            added = await self._store.write_batch(new, pairs)
        except Exception as exc:
            # Nothing of the batch is stored: the enqueuers (Kafka handlers, redrives) get
            # the error and retry themselves; the attempts wait for the next try.
            for item in batch.enqueues:
                if item.done is not None and not item.done.done():
                    item.done.set_exception(exc)
            raise
        self.batches += 1
        by_id = {d.id: d for d in added}
        for item in batch.enqueues:
            mine = [by_id[d.id] for d in item.deliveries if d.id in by_id]
            if item.done is not None:
                if not item.done.done():
                    item.done.set_result(mine)
                continue
            self._room.release()
            if item.then is not None:
                self._call(item.then, mine)
        for record in batch.records:
            self._room.release()
            if record.then is not None:
                self._call(record.then)
        batch.enqueues.clear()
        batch.records.clear()

    def _call(self, then: Callable[..., None], *args: object) -> None:
        try:
            then(*args)
        except Exception:
            self._log.exception("write-behind callback failed")

    async def _settle(self) -> None:
        async with self._settled:
            self._settled.notify_all()
