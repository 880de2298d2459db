"""The /v1/subscriptions API over real HTTP: auth matrix, isolation, validation, SSRF."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest
import structlog
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry
from standardwebhooks import Webhook

from services.notifier.management import SubscriptionManager
from services.notifier.partners import hash_api_key
from services.notifier.subscriptions import Partner
from services.notifier.views import add_subscription_routes
from shared import create_base_app

from .conftest import COMMUNITIES, FakeResolver, Harness, Receiver, Receivers, event

KEY_A = "key-partner-a-0123456789"
KEY_B = "key-partner-b-0123456789"
A = {"Authorization": f"Bearer {KEY_A}"}
B = {"Authorization": f"Bearer {KEY_B}"}
PUBLIC = FakeResolver({"hooks.partner.example": "93.184.216.34", "localhost": "127.0.0.1"})


@asynccontextmanager
async def api(
    harness: Harness, allow: Sequence[str] = ("127.0.0.1/32",)
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    await harness.store.add_partner(Partner("pa", "Partner A"), key_hashes=[hash_api_key(KEY_A)])
    await harness.store.add_partner(Partner("pb", "Partner B"), key_hashes=[hash_api_key(KEY_B)])
    # The views raise the notifier's errors; the base app answers them as problems.
    app = create_base_app(
        service="notifier", logger=structlog.get_logger(), registry=CollectorRegistry()
    )
    manager = SubscriptionManager(
        store=harness.store,
        dispatcher=harness.dispatcher,
        clock=harness.clock,
        policy=type(harness.policy).from_allowlist(allow),
        resolver=PUBLIC,
        community_members=COMMUNITIES,
    )
    add_subscription_routes(app, manager)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


def new(url: str = "http://hooks.partner.example/hook", **extra: Any) -> dict[str, Any]:
    return {"url": url, "event_types": ["*"], **extra}


async def created(client: TestClient[web.Request, web.Application], **kw: Any) -> dict[str, Any]:
    response = await client.post("/v1/subscriptions", json=new(**kw), headers=A)
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def test_create_get_list_patch_delete(harness: Harness) -> None:
    async with api(harness) as client:
        sub = await created(client, filters={"countries": ["KE"], "communities": ["EAC"]})
        assert sub["secret"].startswith("whsec_")
        assert sub["status"] == "active"
        got = await (await client.get(f"/v1/subscriptions/{sub['id']}", headers=A)).json()
        assert "secret" not in got
        assert got["filters"]["communities"] == ["EAC"]
        listing = await (await client.get("/v1/subscriptions", headers=A)).json()
        assert [s["id"] for s in listing["items"]] == [sub["id"]]
        patched = await client.patch(
            f"/v1/subscriptions/{sub['id']}", json={"status": "paused", "filters": {}}, headers=A
        )
        assert (await patched.json())["status"] == "paused"
        deleted = await client.delete(f"/v1/subscriptions/{sub['id']}", headers=A)
        assert deleted.status == 204
        gone = await client.get(f"/v1/subscriptions/{sub['id']}", headers=A)
        assert gone.status == 404


ROUTES = [
    ("GET", ""),
    ("PATCH", ""),
    ("DELETE", ""),
    ("POST", "/secret/rotate"),
    ("GET", "/attempts"),
    ("POST", "/redrive"),
]


@pytest.mark.parametrize(("method", "suffix"), ROUTES)
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": f"Basic {KEY_A}"}, 401),
        ({"Authorization": "Bearer not-a-key"}, 401),
        (B, 404),
        (A, None),
    ],
)
async def test_auth_matrix(
    harness: Harness, method: str, suffix: str, headers: dict[str, str], status: int | None
) -> None:
    async with api(harness) as client:
        sub = await created(client)
        response = await client.request(
            method, f"/v1/subscriptions/{sub['id']}{suffix}", json={}, headers=headers
        )
        if status is None:
            assert response.status < 300, await response.text()
            return
        assert response.status == status
        assert response.content_type == "application/problem+json"
        problem = await response.json()
        assert problem["status"] == status
        assert {"type", "title", "detail"} <= problem.keys()
        if status == 401:
            assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_partner_sees_only_its_own(harness: Harness) -> None:
    async with api(harness) as client:
        await created(client)
        mine = await client.post("/v1/subscriptions", json=new(), headers=B)
        assert mine.status == 201
        listing = await (await client.get("/v1/subscriptions", headers=B)).json()
        assert [s["id"] for s in listing["items"]] == [(await mine.json())["id"]]
        assert (await client.get("/v1/subscriptions")).status == 401


async def test_validation_errors_point_at_the_fault(harness: Harness) -> None:
    async with api(harness) as client:
        body = new(filters={"countries": ["KE", "kenya"], "sdgs": [18]}, colour="blue")
        response = await client.post("/v1/subscriptions", json=body, headers=A)
        assert response.status == 422
        problem = await response.json()
        pointers = {e["pointer"] for e in problem["errors"]}
        assert pointers == {"/filters/countries/1", "/filters/sdgs/0", "/colour"}
        unknown = await client.post(
            "/v1/subscriptions", json=new(filters={"communities": ["XYZ"]}), headers=A
        )
        assert (await unknown.json())["errors"][0]["pointer"] == "/filters/communities"
        not_json = await client.post(
            "/v1/subscriptions", data=b"{", headers={**A, "Content-Type": "application/json"}
        )
        assert not_json.status == 400
        assert (await not_json.json())["code"] == "malformed_json"


SSRF_URLS = [
    "http://127.0.0.1/",
    "http://localhost/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://017700000001/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::1]/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/",
    "http://224.0.0.1/",
    "http://0.0.0.0/",
    "http://[2002:7f00:1::]/",
    "ftp://hooks.partner.example/",
    "file:///etc/passwd",
    "http://user:pw@hooks.partner.example/",
    "http://does-not-resolve.example/",
]


@pytest.mark.parametrize("url", SSRF_URLS)
async def test_unsafe_targets_refused_at_subscribe(harness: Harness, url: str) -> None:
    async with api(harness, allow=()) as client:
        response = await client.post("/v1/subscriptions", json=new(url), headers=A)
        assert response.status == 422
        problem = await response.json()
        assert problem["errors"][0]["pointer"] == "/url"
        patch_target = await created(client)
        patched = await client.patch(
            f"/v1/subscriptions/{patch_target['id']}", json={"url": url}, headers=A
        )
        assert patched.status == 422


async def test_rotation_signs_with_both_secrets_during_overlap(
    harness: Harness, receivers: Receivers
) -> None:
    receiver: Receiver = await receivers()
    async with api(harness) as client:
        sub = await created(client, url=receiver.url)
        rotated = await client.post(
            f"/v1/subscriptions/{sub['id']}/secret/rotate",
            json={"overlap_seconds": 3600},
            headers=A,
        )
        new_secret = (await rotated.json())["secret"]
        assert new_secret != sub["secret"]
        await harness.dispatcher.accept(event(1))
        (got,) = await receiver.wait_for(1)
        assert len(got.headers["webhook-signature"].split(" ")) == 2
        Webhook(sub["secret"]).verify(got.body, got.headers)
        Webhook(new_secret).verify(got.body, got.headers)

        harness.clock.advance(3600)
        await harness.dispatcher.accept(event(2))
        await receiver.wait_for(2)
        assert len(receiver.received[1].headers["webhook-signature"].split(" ")) == 1


async def test_attempts_and_redrive_over_http(harness: Harness, receivers: Receivers) -> None:
    receiver: Receiver = await receivers()
    async with api(harness) as client:
        sub = await created(client, url=receiver.url)
        await harness.dispatcher.accept(event(1))
        await harness.metrics.wait_for("delivered", 1)
        attempts = await (
            await client.get(f"/v1/subscriptions/{sub['id']}/attempts", headers=A)
        ).json()
        (attempt,) = attempts["items"]
        assert attempt["webhook_id"] == "evt-act-1-1"
        assert attempt["status_code"] == 204
        nothing_failed = await client.post(f"/v1/subscriptions/{sub['id']}/redrive", headers=A)
        assert (await nothing_failed.json())["redriven"] == 0
        replay = await client.post(
            f"/v1/subscriptions/{sub['id']}/redrive",
            json={"since": "2000-01-01T00:00:00Z"},
            headers=A,
        )
        assert replay.status == 202
        assert (await replay.json())["webhook_ids"] == ["evt-act-1-1"]
        await receiver.wait_for(2)
        assert receiver.received[1].event_id == receiver.received[0].event_id


async def test_pause_holds_and_resume_delivers(harness: Harness, receivers: Receivers) -> None:
    receiver: Receiver = await receivers()
    async with api(harness) as client:
        sub = await created(client, url=receiver.url)
        url = f"/v1/subscriptions/{sub['id']}"
        await client.patch(url, json={"status": "paused"}, headers=A)
        await harness.dispatcher.accept(event(1))
        assert receiver.received == []
        await client.patch(url, json={"status": "active"}, headers=A)
        await receiver.wait_for(1)
