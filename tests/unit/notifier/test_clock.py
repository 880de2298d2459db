from __future__ import annotations

import asyncio
from datetime import timedelta

from services.notifier.clock import ManualClock


async def test_manual_clock_wakes_only_due_sleepers() -> None:
    clock = ManualClock()
    start = clock.now()
    woken: list[int] = []

    async def sleeper(seconds: int) -> None:
        await clock.sleep_until(start + timedelta(seconds=seconds))
        woken.append(seconds)

    tasks = [asyncio.create_task(sleeper(s)) for s in (10, 5)]
    async with asyncio.timeout(5):
        await clock.wait_for_sleepers(2)
    assert clock.deadlines() == [start + timedelta(seconds=5), start + timedelta(seconds=10)]
    clock.advance(5)
    await tasks[1]
    assert woken == [5]
    clock.advance_to(start + timedelta(seconds=10))
    await tasks[0]
    assert woken == [5, 10]
    await clock.sleep_until(start)  # past deadlines return at once
