"""One session, one pool: webhooks to a receiver reuse kept-alive connections."""

from __future__ import annotations

from aiohttp import web

from .conftest import Harness, Receivers, event


async def test_a_burst_to_one_receiver_reuses_a_few_connections(
    harness: Harness, receivers: Receivers
) -> None:
    peers: set[tuple[str, int]] = set()

    async def note_peer(request: web.Request) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if peer is not None:
            peers.add((peer[0], peer[1]))
        return web.Response(status=204)

    receiver = await receivers(note_peer)
    await harness.subscribe(receiver.url)
    for n in range(30):
        await harness.dispatcher.accept(event(n, f"act-{n}"))
    await receiver.wait_for(30)
    # The harness allows 2 attempts in flight per subscription: at most 2 connections
    # are ever open to the receiver, against 30 without keep-alive.
    assert 1 <= len(peers) <= 2
