"""The registry over HTTP with a real Kafka broker."""

from __future__ import annotations

import io
import json

import pytest

from shared.events import ACTIVITY_EVENTS, ACTIVITY_SNAPSHOTS, namespaced
from tests.integration.registry.conftest import Registry
from tests.support.activities import activity_doc
from tests.support.topics import header, read_topic

pytestmark = pytest.mark.kafka

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def topic(registry: Registry, base: str) -> str:
    return namespaced(base, registry.settings.topic_namespace)


async def test_create_commits_and_publishes_the_event_and_snapshot_in_the_request_trace(
    registry: Registry,
) -> None:
    status, body, resp = await registry.call(
        "POST",
        "/v1/activities",
        scope="write",
        json=activity_doc(),
        headers={"traceparent": TRACEPARENT},
    )
    assert status == 201, body
    activity_id = body["id"]
    assert resp.headers["Location"] == f"/v1/activities/{activity_id}"
    assert resp.headers["ETag"] == '"1"'
    assert body["iati_identifier"] == f"XI-IATI-WIPO-{activity_id}"
    assert body["beneficiaries"] == [{"country": "KE", "status": "developing"}]

    [record] = await read_topic(registry.transport, topic(registry, ACTIVITY_EVENTS), 1)
    assert header(record, "ce_type") == "org.wipo.tabridge.activity.registered.v1"
    assert record.key == activity_id.encode()
    event = json.loads(record.value)
    assert event["state"]["id"] == activity_id
    assert event["version"] == 1
    assert event["actor"] == "write-key"
    assert "title" in event["changed_fields"]
    traceparent = header(record, "traceparent")
    assert traceparent is not None
    assert traceparent.split("-")[1] == TRACEPARENT.split("-")[1], (
        "the HTTP request's trace continues"
    )
    [snapshot] = await read_topic(registry.transport, topic(registry, ACTIVITY_SNAPSHOTS), 1)
    assert json.loads(snapshot.value)["lifecycle"] == "active"


async def test_conditional_updates_history_and_withdrawal(registry: Registry) -> None:
    _, created, _ = await registry.call("POST", "/v1/activities", json=activity_doc())
    activity_id = created["id"]
    path = f"/v1/activities/{activity_id}"

    status, problem, _ = await registry.call("PUT", path, json=activity_doc())
    assert status == 428, "replace needs If-Match"
    changed = activity_doc(stage="implementation")
    status, updated, resp = await registry.call(
        "PUT", path, json=changed, headers={"If-Match": '"1"'}
    )
    assert status == 200, updated
    assert resp.headers["ETag"] == '"2"'
    status, problem, _ = await registry.call(
        "PUT", path, json=activity_doc(), headers={"If-Match": '"1"'}
    )
    assert status == 412
    assert problem["code"] == "version_mismatch"

    status, patched, _ = await registry.call(
        "PATCH",
        path,
        data=json.dumps({"gender_marker": 2, "description": None}),
        headers={"Content-Type": "application/merge-patch+json", "If-Match": '"2"'},
    )
    assert status == 200, patched
    assert patched["gender_marker"] == 2
    assert patched["description"] == {}
    assert patched["version"] == 3

    status, _, resp = await registry.call("GET", path, headers={"If-None-Match": '"3"'})
    assert status == 304
    status, history, _ = await registry.call("GET", f"{path}/history", scope="read")
    assert [v["changed_fields"] for v in history["versions"][1:]] == [
        ["stage"],
        ["description", "gender_marker"],
    ]
    assert [v["actor"] for v in history["versions"]] == ["admin-key"] * 3
    status, first, _ = await registry.call("GET", f"{path}/versions/1", scope="read")
    assert first["stage"] == "planning_and_design"

    status, withdrawn, _ = await registry.call(
        "POST", f"{path}/withdraw", json={"reason": "duplicate of another"}
    )
    assert status == 200
    assert withdrawn["lifecycle"] == "withdrawn"
    assert withdrawn["status"] == "withdrawn"
    status, problem, _ = await registry.call("PATCH", path, json={"gender_marker": 0})
    assert status == 409
    records = await read_topic(registry.transport, topic(registry, ACTIVITY_EVENTS), 4)
    assert [header(r, "ce_type") for r in records] == [
        "org.wipo.tabridge.activity.registered.v1",
        "org.wipo.tabridge.activity.updated.v1",
        "org.wipo.tabridge.activity.updated.v1",
        "org.wipo.tabridge.activity.withdrawn.v1",
    ], "in order per activity"


async def test_idempotency_key_replays_the_first_response(registry: Registry) -> None:
    headers = {"Idempotency-Key": "import-2026-11-25-001"}
    first = await registry.call("POST", "/v1/activities", json=activity_doc(), headers=headers)
    again = await registry.call("POST", "/v1/activities", json=activity_doc(), headers=headers)
    assert first[0] == again[0] == 201
    assert first[1] == again[1]
    assert again[2].headers["Idempotent-Replayed"] == "true"
    status, problem, _ = await registry.call(
        "POST", "/v1/activities", json=activity_doc(title={"en": "Something else"}), headers=headers
    )
    assert status == 422
    assert problem["code"] == "idempotency_key_reused"
    status, page, _ = await registry.call("GET", "/v1/activities", scope="read")
    assert len(page["items"]) == 1, "the replay created nothing"
    records = await read_topic(registry.transport, topic(registry, ACTIVITY_EVENTS), 1)
    assert len(records) == 1


async def test_bad_input_gets_problems_with_pointers(registry: Registry) -> None:
    bad = activity_doc(
        beneficiaries=[{"country": "KE"}, {"country": "FR"}, {"country": "ZZ"}],
        dates={"planned_start": "2027-01-01", "planned_end": "2026-01-01"},
        regional_communities=["NOPE"],
    )
    status, problem, resp = await registry.call("POST", "/v1/activities", json=bad)
    assert status == 422
    assert resp.content_type == "application/problem+json"
    pointers = {e["pointer"] for e in problem["errors"]}
    assert "/dates" in pointers
    bad.pop("dates")
    status, problem, _ = await registry.call("POST", "/v1/activities", json=bad)
    assert {e["pointer"] for e in problem["errors"]} == {
        "/beneficiaries/1/country",
        "/beneficiaries/2/country",
        "/regional_communities/0",
    }
    status, problem, _ = await registry.call(
        "POST", "/v1/activities", json=activity_doc(category=7, title={"en": ""})
    )
    assert {e["pointer"] for e in problem["errors"]} == {"/category", "/title/en"}
    status, problem, _ = await registry.call(
        "POST", "/v1/activities", data=b'{"title": ', headers={"Content-Type": "application/json"}
    )
    assert status == 400
    assert problem["code"] == "malformed_json"
    status, problem, _ = await registry.call(
        "POST",
        "/v1/activities",
        data=io.BytesIO(b"x" * (2 * 1024 * 1024)),
        headers={"Content-Type": "application/json"},
    )
    assert status == 413
    status, problem, _ = await registry.call("GET", "/v1/activities?sdg=18&color=red", scope="read")
    assert (status, problem["code"]) == (400, "invalid_query")
    assert {e["pointer"] for e in problem["errors"]} == {"/query/sdg", "/query/color"}
