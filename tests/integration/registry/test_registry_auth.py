"""The auth matrix: every route with no key, a bad key and a key without the scope."""

from __future__ import annotations

import pytest

from services.registry.state import KEYS
from tests.integration.registry.conftest import Registry
from tests.support.activities import activity_doc

ID = "TA-2026-000001"
ROUTES = [
    ("POST", "/v1/activities", "write"),
    ("GET", "/v1/activities", "read"),
    ("GET", f"/v1/activities/{ID}", "read"),
    ("PUT", f"/v1/activities/{ID}", "write"),
    ("PATCH", f"/v1/activities/{ID}", "write"),
    ("POST", f"/v1/activities/{ID}/withdraw", "write"),
    ("GET", f"/v1/activities/{ID}/history", "read"),
    ("GET", f"/v1/activities/{ID}/versions/1", "read"),
    ("POST", "/v1/activities/bulk", "write"),
    ("GET", "/v1/admin/outbox", "admin"),
    ("GET", "/v1/admin/keys", "admin"),
]
WEAKER = {"read": None, "write": "read", "admin": "write"}


@pytest.mark.parametrize(("method", "path", "scope"), ROUTES)
async def test_route_refuses_missing_bad_and_underscoped_keys(
    memory_registry: Registry, method: str, path: str, scope: str
) -> None:
    reg = memory_registry
    async with reg.http.request(method, reg.url(path), json=activity_doc()) as resp:
        assert resp.status == 401
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await resp.json(content_type=None))["code"] == "unauthenticated"
    bad = {"Authorization": "Bearer tbk_not-a-real-key"}
    async with reg.http.request(method, reg.url(path), json=activity_doc(), headers=bad) as resp:
        assert resp.status == 401
    weaker = WEAKER[scope]
    if weaker is not None:
        async with reg.http.request(
            method, reg.url(path), json=activity_doc(), headers=reg.auth(weaker)
        ) as resp:
            assert resp.status == 403
            assert resp.content_type == "application/problem+json"
            assert (await resp.json(content_type=None))["code"] == "insufficient_scope"
    async with reg.http.request(
        method, reg.url(path), json=activity_doc(), headers=reg.auth(scope)
    ) as resp:
        assert resp.status not in (401, 403), "the right scope passes"


async def test_open_routes_and_revoked_keys(memory_registry: Registry) -> None:
    reg = memory_registry
    for path in ("/healthz", "/metrics", "/openapi.json"):
        async with reg.http.get(reg.url(path)) as resp:
            assert resp.status == 200, path
    async with reg.http.get(reg.url("/openapi.json")) as resp:
        document = await resp.json()
        assert document["openapi"] == "3.1.0"
        assert "/v1/activities/{activity_id}" in document["paths"]
    app = reg.server.app
    key = await app[KEYS].create("temporary", frozenset({"read"}))
    await app[KEYS].revoke("temporary")
    async with reg.http.get(
        reg.url("/v1/activities"), headers={"Authorization": f"Bearer {key}"}
    ) as resp:
        assert resp.status == 401
