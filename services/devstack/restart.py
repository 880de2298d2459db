"""Restart-on-crash with exponential backoff, as Kubernetes' CrashLoopBackOff does it.

A supervised child that exits on its own (a crash, a SIGKILL, an exit status of any kind)
is started again after a delay: `initial` seconds the first time, doubled (`factor`) on each
further crash up to `cap`. A child that ran `reset_after` seconds or more before it crashed
was stable: its next delay starts over at `initial`. Every restart is logged (the
`services.devstack` logger) and handed to the launcher's `on_restart` callback; the
supervisor counts them, and `wait_restarts(n)` wakes when the n-th has happened.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from services.devstack.process import ChildProcess

LOG = logging.getLogger("services.devstack")


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """When a crashed child is started again (seconds)."""

    initial: float = 0.5
    factor: float = 2.0
    cap: float = 30.0
    reset_after: float = 10.0

    def __post_init__(self) -> None:
        if self.initial < 0 or self.cap < self.initial:
            raise ValueError("need 0 <= initial <= cap")
        if self.factor < 1:
            raise ValueError("factor must be at least 1")
        if self.reset_after <= 0:
            raise ValueError("reset_after must be positive")


class Backoff:
    """The delays of one child's restarts under `policy`."""

    def __init__(self, policy: RestartPolicy) -> None:
        self._policy = policy
        self._next = policy.initial

    def after_exit(self, ran_for: float) -> float:
        """The delay before restarting a child that ran `ran_for` seconds, then crashed."""
        policy = self._policy
        if ran_for >= policy.reset_after:
            self._next = policy.initial
        delay = self._next
        self._next = min(self._next * policy.factor, policy.cap)
        return delay


@dataclass(frozen=True, slots=True)
class Restart:
    """One restart: which child, how it had ended, how long it had run, the delay waited,
    and how many restarts it has had with this one."""

    name: str
    status: int
    ran_for: float
    delay: float
    count: int

    def describe(self) -> str:
        return (
            f"{self.name} exited with status {self.status} after {self.ran_for:.1f} s; "
            f"restart {self.count} after {self.delay:.1f} s backoff"
        )


OnRestart = Callable[[Restart], None]


class Supervisor:
    """Keeps one started child running: `run()` until cancelled (the stack's `stop()`)."""

    def __init__(
        self, child: ChildProcess, policy: RestartPolicy, *, on_restart: OnRestart | None = None
    ) -> None:
        self.child = child
        self.restarts: list[Restart] = []
        self._backoff = Backoff(policy)
        self._on_restart = on_restart
        self._changed = asyncio.Condition()

    async def run(self) -> None:
        """Wait for the child to exit, back off, start it again; forever.

        Raises:
            StackError: the child could not be started again (it cannot be executed).
        """
        started = time.monotonic()
        while True:
            status = await self.child.wait()
            ran_for = time.monotonic() - started
            delay = self._backoff.after_exit(ran_for)
            restart = Restart(self.child.name, status, ran_for, delay, len(self.restarts) + 1)
            LOG.warning("restarting: %s", restart.describe())
            await asyncio.sleep(delay)
            await self.child.start()
            started = time.monotonic()
            async with self._changed:
                self.restarts.append(restart)
                self._changed.notify_all()
            if self._on_restart is not None:
                self._on_restart(restart)

    async def wait_restarts(self, count: int) -> Restart:
        """Block until the child has been restarted `count` times; the `count`-th restart."""
        async with self._changed:
            await self._changed.wait_for(lambda: len(self.restarts) >= count)
            return self.restarts[count - 1]
