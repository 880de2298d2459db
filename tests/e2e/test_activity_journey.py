"""One activity change, end to end, across real processes and the real broker.

Registered over HTTP at the registry -> tagged by the sdg-tagger (visible on the registry's
activity) -> published in partner-feed's IATI feed -> delivered as a signed webhook by the
notifier -> and one trace id links every hop in the spans the services export.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from standardwebhooks import Webhook

from services.devstack.demo.subscription import NotifierClient
from tests.support.activities import activity_doc
from tests.support.waiting import eventually

from .conftest import System
from .spans import Span, find, read_trace

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

EVENTS = ".tabridge.activity.events"


@dataclass(frozen=True)
class Missing:
    """The hops not yet in the trace (falsy, so `eventually` keeps waiting and names them)."""

    hops: list[str]

    def __bool__(self) -> bool:
        return False


async def test_a_registered_activity_reaches_tagger_feed_and_webhook_in_one_trace(
    system: System,
) -> None:
    stack, receiver = system.stack, system.receiver
    trace_id = secrets.token_hex(16)
    traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"
    admin = {"Authorization": f"Bearer {system.keys.registry}"}
    async with aiohttp.ClientSession() as http:
        notifier = NotifierClient(http, stack.url("notifier"), system.partner_key)
        subscribed = await notifier.subscribe(receiver.url, communities=("EAC",))
        receiver.trust(subscribed.secret)

        async with http.post(
            stack.url("registry") + "/v1/activities",
            json=activity_doc(),
            headers={**admin, "traceparent": traceparent},
        ) as response:
            assert response.status == 201, await response.text()
            created: dict[str, Any] = await response.json()
        activity_id, iati_id = created["id"], created["iati_identifier"]

        async def tagged() -> dict[str, Any] | None:
            async with http.get(
                f"{stack.url('registry')}/v1/activities/{activity_id}", headers=admin
            ) as response:
                body: dict[str, Any] = await response.json()
            computed = body.get("sdg_computed")
            return computed if computed and computed["goals"] else None

        computed = await eventually(tagged, timeout=30, message="computed SDG tags")
        assert computed["activity_version"] == 1

        async def in_feed() -> bool:
            async with http.get(stack.url("partner-feed") + "/v1/feeds/iati.xml") as response:
                return response.status == 200 and iati_id in await response.text()

        await eventually(in_feed, timeout=30, message=f"{iati_id} in the IATI feed")

        delivery = await receiver.wait_for(
            lambda d: (
                d.event.get("subject") == activity_id
                and str(d.event.get("type", "")).endswith("activity.registered.v1")
            ),
            within=30,
        )
        assert delivery.verified
        event = Webhook(subscribed.secret).verify(delivery.body, dict(delivery.headers))
        assert event["data"]["state"]["iati_identifier"] == iati_id
        assert delivery.trace_id == trace_id

        def hops() -> dict[str, list[Span]] | Missing:
            spans = read_trace(system.trace_dir, trace_id)
            found = {
                "request": find(
                    spans, service="registry", kind="SERVER", name_ends="/v1/activities"
                ),
                "relay": [
                    s
                    for s in find(spans, service="registry", kind="PRODUCER")
                    if EVENTS in str(s.attributes.get("messaging.destination.name"))
                ],
                # Each consumer's batch span links to the records it handled.
                "tagger": find(
                    spans, service="sdg-tagger", kind="CONSUMER", name_ends=f"{EVENTS} batch"
                ),
                "feed": find(
                    spans, service="partner-feed", kind="CONSUMER", name_ends=f"{EVENTS} batch"
                ),
                "notifier": find(
                    spans, service="notifier", kind="CONSUMER", name_ends=f"{EVENTS} batch"
                ),
                "webhook": [
                    s
                    for s in find(spans, service="notifier", kind="CLIENT")
                    if s.attributes.get("webhook.id") == delivery.webhook_id
                ],
            }
            if all(found.values()):
                return found
            return Missing(sorted(hop for hop, spans in found.items() if not spans))

        found = await eventually(hops, timeout=30, message="every hop's span in the trace")
        # At-least-once: a redelivery (a rebalance at start-up) may add a span, never a stray one.
        [request] = found["request"]
        assert request.parent_id == traceparent.split("-")[2]
        assert {s.parent_id for s in found["relay"]} == {request.span_id}
        sends = {s.span_id for s in found["relay"]}
        for consumer in ("tagger", "feed", "notifier"):
            for batch in found[consumer]:
                assert batch.trace_id != trace_id, "a batch span is a trace of its own"
                linked = {span for t, span in batch.links if t == trace_id}
                assert linked and linked <= sends, consumer
        # The webhook continues the change's trace under the record's context.
        assert {s.parent_id for s in found["webhook"]} <= sends
