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
