"""Waiting on conditions with a deadline: the tests' replacement for sleeping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(
    probe: Callable[[], Any],
    *,
    timeout: float = 20.0,
    interval: float = 0.05,
    message: str = "condition not met",
) -> Any:
    """Poll `probe` until it returns a truthy value, at most `timeout` seconds.

    Raises:
        AssertionError: with `message` and the last value when the deadline passes.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        result = probe()
        if asyncio.iscoroutine(result) or isinstance(result, Awaitable):
            result = await result
        last = result
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{message} within {timeout}s (last: {last!r})")
        await _tick(interval)


async def still_pending(task: asyncio.Future[Any], *, within: float) -> bool:
    """True when `task` has not finished `within` seconds from now (a bounded wait on the
    task itself, for asserting that something stays blocked)."""
    done, _ = await asyncio.wait({task}, timeout=within)
    return not done


async def loop_turn() -> None:
    """Let every task that is ready run once (one turn of the event loop, no time taken)."""
    await _tick(0)


async def _tick(interval: float) -> None:
    """Yield to the loop for `interval` while polling (bounded by the caller's deadline)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()
    handle = loop.call_later(interval, future.set_result, None)
    try:
        await future
    finally:
        handle.cancel()
