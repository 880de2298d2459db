"""SSRF at delivery time: nothing reaches a loopback receiver unless allowlisted."""

from __future__ import annotations

import pytest

from services.notifier.deliveries import AttemptOutcome

from .conftest import FakeResolver, Receiver, Receivers, build_harness, event

BYPASSES = [
    "http://127.0.0.1:{port}/hook",
    "http://localhost:{port}/hook",
    "http://2130706433:{port}/hook",
    "http://0x7f.1:{port}/hook",
    "http://0177.0.0.1:{port}/hook",
    "http://127.1:{port}/hook",
    "http://[::ffff:127.0.0.1]:{port}/hook",
    "http://[::1]:{port}/hook",
    "http://rebound.partner.test:{port}/hook",
]


@pytest.mark.parametrize("template", BYPASSES)
async def test_delivery_to_internal_address_is_refused(template: str, receivers: Receivers) -> None:
    receiver: Receiver = await receivers()
    # Subscribe-time DNS said "public"; by delivery time the name points at loopback.
    resolver = FakeResolver({"localhost": "127.0.0.1", "rebound.partner.test": "127.0.0.1"})
    async with build_harness(allow=(), resolver=resolver) as harness:
        subscription = await harness.subscribe(template.format(port=receiver.port))
        await harness.dispatcher.accept(event(1))
        await harness.metrics.wait_for("attempt.refused", 1)
        (attempt,) = await harness.store.list_attempts(subscription.id)
    assert attempt.outcome is AttemptOutcome.REFUSED
    assert attempt.error is not None
    assert attempt.error.startswith("refused")
    assert receiver.received == []


async def test_allowlisted_host_port_is_delivered(receivers: Receivers) -> None:
    receiver: Receiver = await receivers()
    resolver = FakeResolver({"hooks.partner.test": "127.0.0.1"})
    allow = [f"hooks.partner.test:{receiver.port}"]
    async with build_harness(allow=allow, resolver=resolver) as harness:
        await harness.subscribe(f"http://hooks.partner.test:{receiver.port}/hook")
        await harness.dispatcher.accept(event(1))
        await receiver.wait_for(1)


async def test_redirect_is_not_followed(receivers: Receivers) -> None:
    from aiohttp import web

    target: Receiver = await receivers()

    async def redirect(_: web.Request) -> web.StreamResponse:
        return web.Response(status=307, headers={"Location": target.url})

    source: Receiver = await receivers(redirect)
    async with build_harness() as harness:
        subscription = await harness.subscribe(source.url)
        await harness.dispatcher.accept(event(1))
        await harness.metrics.wait_for("attempt.retry", 1)
        (attempt,) = await harness.store.list_attempts(subscription.id)
    assert attempt.status_code == 307
    assert "redirect" in (attempt.error or "")
    assert target.received == []
