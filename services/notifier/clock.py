"""Time as an injected port, so retry timing is testable without real sleeps.

:class:`SystemClock` is the real one; :class:`ManualClock` is its twin for tests: time
stands still until the test advances it, and the test can wait until workers are asleep.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the dispatcher needs from time."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    async def sleep_until(self, when: datetime) -> None:
        """Return once ``now() >= when``; cancellable."""
        ...


class SystemClock:
    """Wall-clock time and ``asyncio.sleep``."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, when: datetime) -> None:
        delay = (when - self.now()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)


class ManualClock:
    """A clock that moves only when told to.

    ``sleep_until`` parks the caller on a future; :meth:`advance` resolves every future whose
    deadline has been reached. :meth:`wait_for_sleepers` lets a test wait (with a deadline)
    until the system under test has gone idle on the clock.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []
        self._changed = asyncio.Condition()

    def now(self) -> datetime:
        return self._now

    async def sleep_until(self, when: datetime) -> None:
        if when <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (when, future)
        self._sleepers.append(entry)
        async with self._changed:
            self._changed.notify_all()
        try:
            await future
        finally:
            if entry in self._sleepers:
                self._sleepers.remove(entry)

    def deadlines(self) -> list[datetime]:
        """Deadlines of everyone currently asleep, earliest first."""
        return sorted(when for when, future in self._sleepers if not future.done())

    async def wait_for_sleepers(self, count: int) -> None:
        """Wait until at least ``count`` callers are asleep (callers bound it with a timeout)."""
        async with self._changed:
            await self._changed.wait_for(lambda: len(self.deadlines()) >= count)

    def advance(self, by: timedelta | float) -> None:
        """Move time forward and wake every sleeper whose deadline has come."""
        step = by if isinstance(by, timedelta) else timedelta(seconds=by)
        self.advance_to(self._now + step)

    def advance_to(self, when: datetime) -> None:
        """Move time to ``when`` (never backwards) and wake the due sleepers."""
        self._now = max(self._now, when)
        for deadline, future in list(self._sleepers):
            if deadline <= self._now and not future.done():
                future.set_result(None)
