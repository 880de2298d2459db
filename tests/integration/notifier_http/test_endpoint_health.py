"""Endpoint health and durability: failure window, restart, idempotent accept."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from services.notifier.clock import ManualClock
from services.notifier.dispatcher import DispatchLimits
from services.notifier.sqlite_store import SqliteStore
from services.notifier.subscriptions import SubscriptionStatus

from .conftest import DEADLINE, Receiver, Receivers, build_harness, drive_until, event


async def failing(_: web.Request) -> web.StreamResponse:
    return web.Response(status=503)


async def test_endpoint_failing_for_the_window_is_disabled(receivers: Receivers) -> None:
    receiver = await receivers(failing)
    limits = DispatchLimits(failure_window=timedelta(minutes=10))
    async with build_harness(limits=limits) as harness:
        subscription = await harness.subscribe(receiver.url)
        await harness.dispatcher.accept(event(1))
        await harness.dispatcher.accept(event(1, "act-2"))
        await drive_until(harness.clock, harness.dead_arrived)
        await harness.metrics.wait_for("failed", 2)
        current = await harness.store.get_subscription(subscription.id)
        assert current is not None
        assert current.status is SubscriptionStatus.DISABLED
        assert "failed since" in (current.disabled_reason or "")
        # 0 s, 5 s, 5 min, 30 min: the fourth attempt is past the 10-minute window.
        assert len(await harness.store.list_attempts(subscription.id)) == 8
        assert sorted(d.event_id for d in harness.dead) == ["evt-act-1-1", "evt-act-2-1"]


async def test_pending_work_survives_a_restart(tmp_path: Path, receivers: Receivers) -> None:
    receiver: Receiver = await receivers()
    await receiver.stop()
    clock = ManualClock()
    store = await SqliteStore.open(tmp_path / "n.db")
    try:
        async with build_harness(store=store, clock=clock) as first:
            await first.subscribe(receiver.url)
            await first.dispatcher.accept(event(1))
            await first.dispatcher.accept(event(2))
            async with asyncio.timeout(DEADLINE):
                await clock.wait_for_sleepers(1)
        await receiver.start()
        async with build_harness(store=store, clock=clock) as second:
            clock.advance(5)
            got = await receiver.wait_for(2)
            assert [r.event_id for r in got] == ["evt-act-1-1", "evt-act-1-2"]
            assert await second.dispatcher.accept(event(2)) == []
    finally:
        await store.close()


async def test_lanes_waiting_out_a_retry_try_at_once_when_the_endpoint_answers_again(
    receivers: Receivers,
) -> None:
    up = asyncio.Event()

    async def down_until_up(_: web.Request) -> web.StreamResponse:
        return web.Response(status=204 if up.is_set() else 503)

    receiver = await receivers(down_until_up)
    async with build_harness() as harness:
        await harness.subscribe(receiver.url)
        await harness.dispatcher.accept(event(1))
        await harness.dispatcher.accept(event(2))  # behind event 1 in the same lane
        await harness.metrics.wait_for("attempt.retry", 1)
        async with asyncio.timeout(DEADLINE):
            await harness.clock.wait_for_sleepers(1)
        harness.clock.advance(5)  # the second attempt (5 s) fails too
        await harness.metrics.wait_for("attempt.retry", 2)
        async with asyncio.timeout(DEADLINE):
            await harness.clock.wait_for_sleepers(1)
        waiting_until = harness.clock.deadlines()[0]
        assert waiting_until - harness.clock.now() == timedelta(minutes=5)
        up.set()
        # Another activity's first attempt finds the endpoint answering: the waiting lane
        # goes at once, without the clock reaching its 5-minute retry, and in order.
        await harness.dispatcher.accept(event(1, "act-2"))
        got = await receiver.wait_for(3)
        assert harness.clock.now() < waiting_until
        lane = [r.event_id for r in got if r.subject == "act-1"]
        assert lane == ["evt-act-1-1", "evt-act-1-2"]
