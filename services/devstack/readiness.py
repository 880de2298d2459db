"""Waiting until a service's `/readyz` answers 200, failing fast if its process exits."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from services.devstack.errors import StackError
from services.devstack.process import ChildProcess


async def wait_ready(
    http: aiohttp.ClientSession,
    url: str,
    child: ChildProcess,
    *,
    within: float,
    interval: float = 0.2,
) -> None:
    """Poll `{url}/readyz` until it answers 200.

    Raises:
        StackError: the child exited first, or `within` seconds passed; the message holds
            the last answer and the end of the child's log.
    """
    deadline = time.monotonic() + within
    last = "no answer yet"
    while True:
        if child.returncode is not None:
            raise StackError(
                f"{child.name} exited with status {child.returncode} before it was ready; "
                f"its log ({child.log_path}) ends:\n{child.log_tail()}"
            )
        try:
            async with http.get(
                f"{url}/readyz", timeout=aiohttp.ClientTimeout(total=6)
            ) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}: {(await response.text())[:300]}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            raise StackError(
                f"{child.name} was not ready at {url}/readyz within {within:.0f} s "
                f"(last: {last}); its log ({child.log_path}) ends:\n{child.log_tail()}"
            )
        await asyncio.sleep(interval)
