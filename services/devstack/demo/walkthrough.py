"""The demo's walk through the running system, over HTTP: what `make run` shows."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import aiohttp

from services.devstack.demo.activities import (
    Change,
    RegistryClient,
    load_documents,
    record_consultation,
)
from services.devstack.demo.activities import seed as seed_activities
from services.devstack.demo.console import Console
from services.devstack.demo.imports import import_partner_files, pull_partner
from services.devstack.demo.keys import DemoKeys
from services.devstack.demo.subscription import DESCRIPTION, NotifierClient
from services.devstack.receiver import WebhookReceiver
from services.devstack.stack import Stack

COMMUNITIES = ("EAC",)
PULLED_PARTNER = "tfm"

DEMO_ACTIVITY = "National IP strategy for Kenya"
WEBHOOK_WAIT_SECONDS = 30.0
FEED_WAIT_SECONDS = 30.0


async def feed_has(
    http: aiohttp.ClientSession, feed_url: str, activity_ids: list[str], *, poll: float = 0.25
) -> bool:
    """Whether partner-feed's IATI feed lists every one of `activity_ids` within the wait."""
    wanted = [f"XI-IATI-WIPO-{activity_id}" for activity_id in activity_ids]
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(FEED_WAIT_SECONDS):
            while True:
                async with http.get(f"{feed_url}/v1/feeds/iati.xml") as response:
                    text = await response.text() if response.status == 200 else ""
                if all(identifier in text for identifier in wanted):
                    return True
                await asyncio.sleep(poll)
    return False


async def demo(
    stack: Stack,
    receiver: WebhookReceiver,
    keys: DemoKeys,
    *,
    data: Path,
    http: aiohttp.ClientSession,
    console: Console,
    exits: contextlib.AsyncExitStack,
) -> Change:
    """Subscribe the receiver, seed the activities, import the partner files (`data` is
    deploy/demo-data), and make the demo change; returns the change once its webhook
    arrived, or the wait ran out. The subscription is deleted when `exits` unwinds."""
    notifier = NotifierClient(http, stack.url("notifier"), keys.partner)
    await notifier.remove_stale(DESCRIPTION)
    subscribed = await notifier.subscribe(receiver.url, communities=COMMUNITIES)
    receiver.trust(subscribed.secret)
    exits.push_async_callback(notifier.unsubscribe, subscribed.id)
    console.step(
        f"notifier: partner {keys.notifier_partner!r} subscribed {subscribed.id} "
        f"(communities {', '.join(COMMUNITIES)}) -> {receiver.url}"
    )

    registry = RegistryClient(http, stack.url("registry"), keys.registry)
    seeded = await seed_activities(registry, load_documents(data / "activities.json"))
    created = sum(1 for s in seeded if s.created)
    console.step(
        f"registry: {len(seeded)} demo activities "
        f"({created} new, {len(seeded) - created} already registered)"
    )
    for item in seeded:
        console.detail(f"{item.id}  {item.title}")

    # Partner records are linked to the activities partner-feed knows: let it catch up first.
    if not await feed_has(http, stack.url("partner-feed"), [s.id for s in seeded]):
        console.detail(
            f"partner-feed has not published every demo activity within {FEED_WAIT_SECONDS:.0f} s;"
            " partner records imported now may stay unlinked"
        )
    console.step("partner-feed: importing deploy/demo-data/partners/")
    for imported in await import_partner_files(
        http, stack.url("partner-feed"), keys.partner, data / "partners"
    ):
        counts = ", ".join(f"{k} {v}" for k, v in imported.counts.items() if v)
        console.detail(f"{imported.partner:6} {imported.file}: {imported.status} ({counts})")
    pulled = await pull_partner(http, stack.url("partner-feed"), keys.partner, PULLED_PARTNER)
    console.detail(
        f"{PULLED_PARTNER:6} pulled from its source URL: {pulled['outcome']}"
        + (f" (HTTP {pulled['http_status']})" if pulled.get("http_status") else "")
    )

    target = next((s for s in seeded if s.title == DEMO_ACTIVITY), seeded[0])
    change = await record_consultation(registry, target.id)
    console.step(
        f"demo change: {change.activity_id} v{change.version}, {change.summary} "
        f"(trace {change.trace_id})"
    )
    try:
        await receiver.wait_for(
            lambda d: d.trace_id == change.trace_id, within=WEBHOOK_WAIT_SECONDS
        )
    except TimeoutError:
        console.detail(
            f"its webhook has not arrived within {WEBHOOK_WAIT_SECONDS:.0f} s; see the notifier log"
        )

    return change
