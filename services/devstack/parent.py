"""Stopping when the process that started us is being stopped.

`make run` runs the launcher as a child of `make`. A Ctrl-C in a terminal reaches the
whole foreground process group, launcher included. A signal sent to `make` alone (by an
IDE, a task runner, `kill -INT <make's pid>`) does not: GNU make then waits for its
children to exit before it dies itself, and the children were never told. Two things
cover that:

- on Linux the kernel is asked to send SIGTERM when the parent dies (`PR_SET_PDEATHSIG`),
  for a parent killed outright;
- `ParentWatch` reads the parent's signal dispositions (`/proc/<ppid>/status`) twice a
  second: a parent that caught SIGINT, SIGTERM or SIGHUP and no longer does is running its
  fatal-signal handler (make resets the disposition first, then waits for us), and a
  parent that is gone is gone. Either way the launcher stops as if it had the signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1
WATCHED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def request_death_signal() -> None:
    """Linux: SIGTERM to us when the parent dies. Elsewhere nothing."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


def caught_signals(pid: int, proc: Path = Path("/proc")) -> frozenset[int] | None:
    """The signals `pid` has handlers for (`SigCgt`), None where /proc cannot say."""
    try:
        text = (proc / str(pid) / "status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name == "SigCgt":
            mask = int(value.strip(), 16)
            return frozenset(n for n in range(1, 65) if mask >> (n - 1) & 1)
    return None


class ParentWatch:
    """Sets `stopping` once the parent is gone or is handling a fatal signal."""

    def __init__(self, stopping: asyncio.Event, *, interval: float = 0.5) -> None:
        self._stopping = stopping
        self._interval = interval
        self._parent = os.getppid()
        baseline = caught_signals(self._parent)
        self._watched = {s for s in WATCHED if baseline and int(s) in baseline}

    def reason(self) -> str | None:
        """Why we should stop now, or None."""
        if os.getppid() != self._parent:
            return "the parent process is gone"
        if self._watched:
            now = caught_signals(self._parent)
            if now is None:
                return "the parent process is gone"
            lost = [s for s in self._watched if int(s) not in now]
            if lost:
                return f"the parent process is stopping ({lost[0].name})"
        return None

    async def run(self) -> str | None:
        """Watch until the parent stops (then set `stopping` and return why) or something
        else set `stopping` (then return None)."""
        while not self._stopping.is_set():
            if (why := self.reason()) is not None:
                self._stopping.set()
                return why
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._interval)
        return None
