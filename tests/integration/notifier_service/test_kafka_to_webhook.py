"""Kafka → notifier → webhook, end to end on a real broker and real receivers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from opentelemetry.trace import SpanKind
from standardwebhooks import Webhook

from services.notifier.openapi import SubscriptionOut, SubscriptionWithSecret
from shared.events import (
    OPS_EVENTS,
    WEBHOOK_DLQ,
    ActivityRegistered,
    GoalTag,
    SdgTagsAssigned,
)
from tests.integration.notifier_http.conftest import FakeResolver, Receiver
from tests.support.topics import header, read_topic
from tests.support.waiting import eventually

from .conftest import AUTH, activity, change

pytestmark = pytest.mark.kafka

Receivers = Callable[..., Awaitable[Receiver]]
TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
REGISTERED = ActivityRegistered.ce_type()


async def test_activity_event_arrives_signed_in_one_trace(
    notifier: Any, receivers: Receivers
) -> None:
    receiver = await receivers()
    async with notifier() as service:
        sub = await service.subscribe(receiver.url, event_types=(REGISTERED,))
        SubscriptionWithSecret.model_validate(sub)
        state = activity(1)
        await service.publish(change(state), traceparent=TRACE)

        (got,) = await receiver.wait_for(1, timeout=30)
        payload = Webhook(sub["secret"]).verify(got.body, got.headers)
        assert payload["type"] == REGISTERED
        assert payload["subject"] == state.id
        assert payload["specversion"] == "1.0"
        assert payload["data"]["state"]["id"] == state.id
        assert got.headers["webhook-id"] == payload["id"]
        # The receiver continues the event's trace, under the notifier's attempt span.
        trace_id = TRACE.split("-")[1]
        assert got.headers["traceparent"].split("-")[1] == trace_id
        await eventually(
            lambda: service.metric("notifier_deliveries_delivered_total") == 1,
            message="delivered counter",
        )
        clients = [
            s
            for s in service.exporter.get_finished_spans()
            if s.kind is SpanKind.CLIENT and f"{s.context.trace_id:032x}" == trace_id
        ]
        assert len(clients) == 1
        assert got.headers["traceparent"].split("-")[2] == f"{clients[0].context.span_id:016x}"
        assert clients[0].attributes is not None
        assert clients[0].attributes["http.response.status_code"] == 204
        metrics = await (await service.client.get("/metrics")).text()
        assert 'notifier_delivery_attempts_total{outcome="delivered"} 1.0' in metrics
        listed = await (
            await service.client.get(f"/v1/subscriptions/{sub['id']}", headers=AUTH)
        ).json()
        SubscriptionOut.model_validate(listed)
        ready = await service.client.get("/readyz")
        assert ready.status == 200, await ready.text()


async def test_receiver_down_then_back_gets_everything_in_order(
    notifier: Any, receivers: Receivers
) -> None:
    receiver = await receivers()
    await receiver.stop()  # the port stays ours; connections are refused
    async with notifier(retry_delays="0,0.3,0.6,1,1,1,1,1,1,1,1,1") as service:
        sub = await service.subscribe(receiver.url)
        ids = [1, 2, 3]
        for version in range(1, 5):
            await service.publish(*(change(activity(n, version)) for n in ids))

        async def refused() -> bool:
            return len(await service.attempts(sub["id"])) >= len(ids)

        await eventually(refused, message="first attempts refused")
        await receiver.start()
        got = await receiver.wait_for(12, timeout=30)
        secret = Webhook(sub["secret"])
        for n in ids:
            versions = [
                secret.verify(r.body, r.headers)["data"]["version"]
                for r in got
                if r.subject == f"TA-2026-{n:06d}"
            ]
            assert versions == [1, 2, 3, 4]


async def test_receiver_that_never_recovers_ends_in_dlq_and_can_be_redriven(
    notifier: Any, receivers: Receivers
) -> None:
    healthy = False

    async def flaky(_: web.Request) -> web.StreamResponse:
        return web.Response(status=204 if healthy else 500, text="down")

    receiver = await receivers(flaky)
    async with notifier() as service:
        sub = await service.subscribe(receiver.url)
        state = activity(7)
        await service.publish(change(state))

        (dead,) = await read_topic(service.transport, service.topic(WEBHOOK_DLQ), 1)
        assert header(dead, "dlq.subscription.id") == sub["id"]
        assert header(dead, "dlq.partner.id") == "pa"
        assert header(dead, "dlq.attempts") == "3"
        assert header(dead, "dlq.last_status") == "500"
        assert header(dead, "dlq.error.message") == "HTTP 500"
        body = json.loads(dead.value)
        assert body["subject"] == state.id
        assert header(dead, "dlq.webhook.id") == body["id"]

        ops = await read_topic(service.transport, service.topic(OPS_EVENTS), 1)
        failed = [
            r
            for r in ops
            if header(r, "ce_type") == "org.wipo.tabridge.ops.webhook.delivery_failed.v1"
        ]
        assert len(failed) == 1
        notice = json.loads(failed[0].value)
        assert notice["subscription_id"] == sub["id"]
        assert notice["event_id"] == body["id"]
        assert notice["attempts"] == 3
        assert notice["last_status"] == 500
        assert notice["activity_id"] == state.id

        healthy = True
        response = await service.client.post(
            f"/v1/subscriptions/{sub['id']}/redrive", json={}, headers=AUTH
        )
        assert response.status == 202
        assert (await response.json())["webhook_ids"] == [body["id"]]
        (got,) = await receiver.wait_for(1, timeout=30)
        assert got.event_id == body["id"]
        assert Webhook(sub["secret"]).verify(got.body, got.headers)["id"] == body["id"]


async def test_gone_endpoint_disables_the_subscription_with_an_ops_event(
    notifier: Any, receivers: Receivers
) -> None:
    async def gone(_: web.Request) -> web.StreamResponse:
        return web.Response(status=410)

    receiver = await receivers(gone)
    async with notifier() as service:
        sub = await service.subscribe(receiver.url)
        await service.publish(change(activity(8)))
        ops = await read_topic(service.transport, service.topic(OPS_EVENTS), 2)
        types = sorted(header(r, "ce_type") or "" for r in ops)
        assert types == [
            "org.wipo.tabridge.ops.subscription.disabled.v1",
            "org.wipo.tabridge.ops.webhook.delivery_failed.v1",
        ]
        disabled = next(
            json.loads(r.value) for r in ops if "disabled" in (header(r, "ce_type") or "")
        )
        assert disabled == {"subscription_id": sub["id"], "partner": "pa", "reason": "gone"}
        current = await (
            await service.client.get(f"/v1/subscriptions/{sub['id']}", headers=AUTH)
        ).json()
        assert current["status"] == "disabled"


async def test_slow_endpoint_does_not_slow_the_others(notifier: Any, receivers: Receivers) -> None:
    release = asyncio.Event()

    async def stuck(_: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response(status=204)

    slow = await receivers(stuck)
    fast = await receivers()
    async with notifier() as service:
        await service.subscribe(slow.url)
        await service.subscribe(fast.url)
        await service.publish(*(change(activity(n)) for n in range(1, 21)))
        assert len(await fast.wait_for(20, timeout=30)) == 20
        assert slow.received == []
        release.set()
        await slow.wait_for(20, timeout=30)


async def test_filters_by_community_members_and_computed_sdgs(
    notifier: Any, receivers: Receivers
) -> None:
    everything = await receivers()
    eac = await receivers()
    sdg3 = await receivers()
    async with notifier() as service:
        await service.subscribe(everything.url)
        await service.subscribe(eac.url, communities=["EAC"])
        await service.subscribe(sdg3.url, sdgs=[3])
        # Brazil is in no EAC list; Uganda is an EAC member but the activity names no community.
        brazil = activity(1, beneficiaries=[{"country": "BR"}], regional_communities=[])
        uganda = activity(2, beneficiaries=[{"country": "UG"}], regional_communities=[])
        await service.publish(change(brazil))
        await service.publish(change(uganda))
        await everything.wait_for(2, timeout=30)
        got = await eac.wait_for(1, timeout=30)
        assert [r.subject for r in got] == [uganda.id]

        # SDG 3 is not curated on the activity; the tagger computes it.
        tags = SdgTagsAssigned(
            activity_id=uganda.id,
            activity_version=1,
            model_id="test-model",
            outcome="tagged",
            goals=[GoalTag(goal=3, score=0.9, decision="assigned")],
        )
        await service.publish(tags)
        (tagged,) = await sdg3.wait_for(1, timeout=30)
        assert json.loads(tagged.body)["type"] == SdgTagsAssigned.ce_type()
        # The tags event carries the activity's facets: the EAC subscription gets it too.
        await eac.wait_for(2, timeout=30)
        await service.publish(change(activity(2, 2, beneficiaries=[{"country": "UG"}])))
        got = await sdg3.wait_for(2, timeout=30)
        assert json.loads(got[1].body)["data"]["version"] == 2
        await everything.wait_for(4, timeout=30)
        assert len(sdg3.received) == 2


BYPASSES = [
    "http://2130706433:{port}/hook",
    "http://0x7f.1:{port}/hook",
    "http://[::ffff:127.0.0.1]:{port}/hook",
    "http://[::1]:{port}/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://localhost:{port}/hook",
    "file:///etc/passwd",
]


async def test_ssrf_bypass_urls_are_refused_and_rebinding_is_caught(
    notifier: Any, receivers: Receivers
) -> None:
    receiver = await receivers()
    resolver = FakeResolver({"localhost": "127.0.0.1", "hooks.partner.test": "93.184.216.34"})
    async with notifier(resolver=resolver, allowlist="") as service:
        for template in BYPASSES:
            response = await service.client.post(
                "/v1/subscriptions",
                json={"url": template.format(port=receiver.port), "event_types": ["*"]},
                headers=AUTH,
            )
            assert response.status == 422, template
            assert (await response.json())["code"] == "unsafe_target"
        sub = await service.subscribe(f"http://hooks.partner.test:{receiver.port}/hook")
        resolver.answers["hooks.partner.test"] = "127.0.0.1"  # DNS rebinding after vetting
        await service.publish(change(activity(3)))

        async def refused() -> list[dict[str, Any]]:
            return [a for a in await service.attempts(sub["id"]) if a["outcome"] == "refused"]

        (first, *_) = await eventually(refused, message="refused attempt")
        assert first["error"].startswith("refused")
        assert receiver.received == []


async def test_openapi_document_describes_the_subscription_api(notifier: Any) -> None:
    async with notifier() as service:
        response = await service.client.get("/openapi.json")
        doc = await response.json()
    assert doc["openapi"] == "3.1.0"
    assert set(doc["paths"]) >= {"/v1/subscriptions", "/v1/subscriptions/{id}/redrive"}
    assert "CreateBody" in doc["components"]["schemas"]
    assert doc["paths"]["/v1/subscriptions"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ] == {"$ref": "#/components/schemas/CreateBody"}
