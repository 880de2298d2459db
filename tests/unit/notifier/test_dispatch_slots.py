"""The dispatcher's concurrency slots: a bound, FIFO hand-over, cancellation-safe."""

from __future__ import annotations

import asyncio

from services.notifier.dispatcher import _Slots


async def test_slots_bound_holders_and_hand_over_in_arrival_order() -> None:
    slots = _Slots(2)
    release, two_in = asyncio.Event(), asyncio.Event()
    holding: list[int] = []
    order: list[int] = []
    peak = 0

    async def hold(n: int) -> None:
        nonlocal peak
        async with slots:
            order.append(n)
            holding.append(n)
            peak = max(peak, len(holding))
            if len(holding) == 2:
                two_in.set()
            await release.wait()
            holding.remove(n)

    tasks = [asyncio.create_task(hold(n)) for n in range(6)]
    await two_in.wait()
    assert order == [0, 1]
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 2
    assert order == list(range(6))


async def test_a_waiter_cancelled_as_its_slot_arrives_passes_the_slot_on() -> None:
    slots = _Slots(1)
    await slots.__aenter__()
    first = asyncio.create_task(slots.__aenter__())
    second = asyncio.create_task(slots.__aenter__())
    await asyncio.sleep(0)
    await slots.__aexit__(None, None, None)  # hands the slot to `first`...
    first.cancel()  # ...which is cancelled before it runs
    await asyncio.gather(first, return_exceptions=True)
    await second  # so `second` gets it
    assert first.cancelled()
    await slots.__aexit__(None, None, None)
    async with slots:  # and the count is whole again
        pass
