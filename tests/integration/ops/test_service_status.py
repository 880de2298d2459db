"""`GET /v1/status` of the real services: the shape operators and `ta-bridge status` read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from services.sdg_tagger import SdgTagger
from shared import ACTIVITY_ID_ATTRIBUTE, KafkaTransport, MemoryTransport, retry_topic
from shared.events import ACTIVITY_EVENTS, SDG_TAGS, WEBHOOK_DLQ, namespaced
from tests.integration.notifier_service.conftest import activity, change
from tests.integration.partner_feed.conftest import EXAMPLE_203
from tests.integration.registry.conftest import start_registry
from tests.integration.sdg_tagger.harness import start_tagger_service
from tests.support.activities import activity_doc
from tests.support.operator import AS_OPERATOR
from tests.support.waiting import eventually
from tests.unit.partner_feed.harness import start_feed_service

TOP_LEVEL = {"service", "status", "checked_at", "checks", "kafka", "details", "warnings"}


def _assert_kafka_shape(
    body: dict[str, Any], group: str, topics: list[str], dlqs: list[str]
) -> None:
    kafka = body["kafka"]
    assert kafka["reachable"] is True, kafka
    assert kafka["error"] is None
    [consumer] = kafka["consumer_groups"]
    assert consumer["group"] == group
    assert consumer["topics"] == topics
    assert isinstance(consumer["lag"], int)
    for partition in consumer["partitions"]:
        assert set(partition) == {"topic", "partition", "committed", "end", "lag", "beyond_end"}
        assert partition["topic"] in topics
    assert [d["topic"] for d in kafka["dlq"]] == dlqs
    assert all(d["exists"] and d["depth"] == 0 for d in kafka["dlq"])


@pytest.mark.kafka
async def test_registry_status_on_the_real_broker(
    tmp_path: Path, kafka_bootstrap: str, unique: str
) -> None:
    ns = f"t{unique}"
    registry, _ = await start_registry(tmp_path, KafkaTransport(kafka_bootstrap), ns)
    try:
        status, created, _ = await registry.call("POST", "/v1/activities", json=activity_doc())
        assert status == 201

        async def published() -> dict[str, Any] | None:
            async with registry.http.get(registry.url("/v1/status"), headers=AS_OPERATOR) as resp:
                assert resp.status == 200
                body: dict[str, Any] = await resp.json()
            return body if body["details"]["outbox"]["backlog"] == 0 else None

        body = await eventually(published, timeout=60, message="the outbox drained")
    finally:
        await registry.http.close()
        await registry.server.close()

    assert set(body) == TOP_LEVEL
    assert body["service"] == "registry"
    assert body["status"] == "ok", body
    assert body["checks"]["database"] is True
    assert body["checks"]["kafka"] is True
    tags = namespaced(SDG_TAGS, ns)
    retry = retry_topic(f"registry-{ns}", ns)
    _assert_kafka_shape(body, f"{ns}.registry-{ns}", [tags, retry], [f"{tags}.dlq"])
    # The group's retry topic (where a redrive sends its dead letters) is in its lag.
    assert retry in {p["topic"] for p in body["kafka"]["consumer_groups"][0]["partitions"]}
    assert body["details"]["outbox"] == {
        "backlog": 0,
        "oldest_unpublished_at": None,
        "oldest_unpublished_age_seconds": None,
    }
    assert body["warnings"] == []
    assert registry.exporter is not None
    posts = [s for s in registry.exporter.get_finished_spans() if s.name == "POST /v1/activities"]
    assert [(s.attributes or {}).get(ACTIVITY_ID_ATTRIBUTE) for s in posts] == [created["id"]]


@pytest.mark.kafka
async def test_notifier_status_counts_deliveries_per_subscription(
    notifier: Callable[..., Any], receivers: Callable[..., Any]
) -> None:
    receiver = await receivers()
    async with notifier() as service:
        subscription = await service.subscribe(receiver.url)
        await service.publish(change(activity(1)))
        await receiver.wait_for(1)

        async def delivered() -> dict[str, Any] | None:
            response = await service.client.get("/v1/status", headers=AS_OPERATOR)
            assert response.status == 200
            body: dict[str, Any] = await response.json()
            [sub] = body["details"]["subscriptions"]
            return body if sub["delivered"] == 1 else None

        body = await eventually(delivered, timeout=60, message="one delivery counted")
        ns = service.settings.topic_namespace

    assert set(body) == TOP_LEVEL
    assert body["service"] == "notifier"
    consumed = [namespaced(ACTIVITY_EVENTS, ns), namespaced(SDG_TAGS, ns)]
    dlqs = [f"{t}.dlq" for t in consumed] + [namespaced(WEBHOOK_DLQ, ns)]
    group = service.settings.namespaced_group(service.settings.consumer_group)
    retry = retry_topic(service.settings.consumer_group, ns)
    _assert_kafka_shape(body, group, [*consumed, retry], dlqs)
    [sub] = body["details"]["subscriptions"]
    assert sub["subscription"] == subscription["id"]
    assert (sub["partner"], sub["status"]) == ("pa", "active")
    assert (sub["delivered"], sub["failed"], sub["pending"]) == (1, 0, 0)
    assert sub["last_attempt"]["outcome"] == "delivered"
    assert sub["last_attempt"]["status_code"] == 204


async def test_partner_feed_status_names_each_partners_last_import(
    tmp_path: Path, unique: str
) -> None:
    transport = MemoryTransport()
    service = await start_feed_service(
        tmp_path, transport, f"pf{unique}", partners=({"id": "unctad"}, {"id": "eac"})
    )
    try:
        status, report = await service.upload("unctad", EXAMPLE_203.read_bytes())
        assert status == 201
        async with service.http.get(service.url("/v1/status"), headers=AS_OPERATOR) as resp:
            assert resp.status == 200
            body: dict[str, Any] = await resp.json()
    finally:
        await service.close()

    assert set(body) == TOP_LEVEL
    assert body["service"] == "partner-feed"
    partners = {p["partner"]: p for p in body["details"]["partners"]}
    assert partners["eac"]["last_import"] is None
    last = partners["unctad"]["last_import"]
    assert last["report_id"] == report["id"]
    assert last["status"] == report["status"]
    assert last["counts"] == report["counts"]
    assert last["received_at"] == report["received_at"]


async def test_tagger_status_names_its_model(tmp_path: Path, unique: str) -> None:
    tagger = SdgTagger.load()
    service = await start_tagger_service(tmp_path, MemoryTransport(), f"sdg{unique}", tagger)
    try:
        async with service.http.get(service.url("/v1/status"), headers=AS_OPERATOR) as resp:
            assert resp.status == 200
            body: dict[str, Any] = await resp.json()
    finally:
        await service.close()

    assert body["service"] == "sdg-tagger"
    assert body["details"] == {"model_id": tagger.model_id}
    [group] = body["kafka"]["consumer_groups"]
    ns = f"sdg{unique}"
    own = retry_topic(service.settings.group_id, ns)
    assert group["topics"] == [namespaced(ACTIVITY_EVENTS, ns), own]
