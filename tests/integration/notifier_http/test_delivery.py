"""Delivery against real HTTP receivers: signing, order, retries, exhaustion, isolation."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiohttp import web
from standardwebhooks import Webhook

from services.notifier.deliveries import AttemptOutcome, DeliveryStatus
from services.notifier.subscriptions import SubscriptionStatus

from .conftest import DEADLINE, Harness, Receiver, Receivers, drive_until, event


async def test_webhook_is_signed_per_standard_webhooks(
    harness: Harness, receivers: Receivers
) -> None:
    receiver = await receivers()
    subscription = await harness.subscribe(receiver.url)
    await harness.dispatcher.accept(event(1))
    (got,) = await receiver.wait_for(1)
    payload = Webhook(subscription.current_secret).verify(got.body, got.headers)
    assert payload["id"] == "evt-act-1-1"
    assert got.headers["webhook-id"] == "evt-act-1-1"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["traceparent"].startswith("00-0af7651916cd43dd")
    await harness.metrics.wait_for("delivered", 1)
    (attempt,) = await harness.store.list_attempts(subscription.id)
    assert attempt.outcome is AttemptOutcome.DELIVERED
    assert attempt.status_code == 204


async def test_receiver_down_then_back_gets_everything_in_order(
    harness: Harness, receivers: Receivers
) -> None:
    receiver: Receiver = await receivers()
    await receiver.stop()  # keep the port, refuse connections
    subscription = await harness.subscribe(receiver.url)
    subjects = ["act-a", "act-b", "act-c"]
    for n in range(4):
        for subject in subjects:
            await harness.dispatcher.accept(event(n, subject))

    async with asyncio.timeout(DEADLINE):
        await harness.clock.wait_for_sleepers(len(subjects))
    await receiver.start()
    harness.clock.advance(timedelta(seconds=5))

    got = await receiver.wait_for(12)
    for subject in subjects:
        order = [int(r.event_id.rsplit("-", 1)[1]) for r in got if r.subject == subject]
        assert order == [0, 1, 2, 3]
    for r in got:
        Webhook(subscription.current_secret).verify(r.body, r.headers)
        assert "webhook-redelivery" not in {name.lower() for name in r.headers}  # first sends


async def test_exhausted_delivery_is_dead_lettered_and_redriven_with_same_id(
    harness: Harness, receivers: Receivers
) -> None:
    healthy = False

    async def flaky(_: web.Request) -> web.StreamResponse:
        return web.Response(status=204 if healthy else 500, text="boom")

    receiver = await receivers(flaky)
    subscription = await harness.subscribe(receiver.url)
    await harness.dispatcher.accept(event(1))
    await drive_until(harness.clock, harness.dead_arrived)

    (dead_delivery,) = harness.dead
    assert dead_delivery.event_id == "evt-act-1-1"
    attempts = await harness.store.list_attempts(subscription.id)
    assert len(attempts) == 8
    assert {a.status_code for a in attempts} == {500}
    assert attempts[0].response_excerpt == "boom"
    stored = await harness.store.get_delivery(dead_delivery.id)
    assert stored is not None
    assert stored.status is DeliveryStatus.FAILED

    healthy = True
    redriven = await harness.dispatcher.submit(
        [
            d.redriven(now=harness.clock.now(), generation=d.generation + 1)
            for d in await harness.store.redrivable(subscription.id, since=None)
        ]
    )
    assert len(redriven) == 1
    (got,) = await receiver.wait_for(1)
    assert got.event_id == dead_delivery.event_id
    # the same webhook-id, marked as the first redrive, so the receiver can tell
    headers = {name.lower(): value for name, value in got.headers.items()}
    assert headers["webhook-redelivery"] == "1"


async def test_slow_endpoint_does_not_delay_others(harness: Harness, receivers: Receivers) -> None:
    release = asyncio.Event()

    async def stuck(_: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response(status=204)

    slow = await receivers(stuck)
    fast = await receivers()
    await harness.subscribe(slow.url)
    await harness.subscribe(fast.url)
    for n in range(20):
        await harness.dispatcher.accept(event(n, f"act-{n}"))
    got = await fast.wait_for(20)
    assert len(got) == 20
    assert slow.received == []
    release.set()
    await slow.wait_for(20)


async def test_410_disables_the_subscription(harness: Harness, receivers: Receivers) -> None:
    async def gone(_: web.Request) -> web.StreamResponse:
        return web.Response(status=410)

    receiver = await receivers(gone)
    subscription = await harness.subscribe(receiver.url)
    await harness.dispatcher.accept(event(1))
    await harness.dispatcher.accept(event(2))
    await harness.metrics.wait_for("failed", 2)
    current = await harness.store.get_subscription(subscription.id)
    assert current is not None
    assert current.status is SubscriptionStatus.DISABLED
    assert "410" in (current.disabled_reason or "")
    assert [d.event_id for d in harness.dead] == ["evt-act-1-1", "evt-act-1-2"]
    assert await harness.dispatcher.accept(event(3)) == []


async def test_429_retry_after_is_honoured(harness: Harness, receivers: Receivers) -> None:
    answers = [web.Response(status=429, headers={"Retry-After": "120"})]

    async def throttled(_: web.Request) -> web.StreamResponse:
        return answers.pop() if answers else web.Response(status=200)

    receiver = await receivers(throttled)
    await harness.subscribe(receiver.url)
    start = harness.clock.now()
    await harness.dispatcher.accept(event(1))
    async with asyncio.timeout(DEADLINE):
        await harness.clock.wait_for_sleepers(1)
    assert harness.clock.deadlines() == [start + timedelta(seconds=120)]
    harness.clock.advance(timedelta(seconds=119))
    assert receiver.received == []
    harness.clock.advance(timedelta(seconds=1))
    await receiver.wait_for(1)
