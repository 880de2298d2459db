"""Hostile subscription bodies over real HTTP: ownership before parsing, deep nesting."""

from __future__ import annotations

import pytest

from .conftest import Harness
from .test_subscriptions_api import A, B, api, created

DEEP = b"[" * 100_000 + b"]" * 100_000


async def test_another_partners_subscription_is_404_whatever_the_body(harness: Harness) -> None:
    async with api(harness) as client:
        theirs = await created(client)
        path = f"/v1/subscriptions/{theirs['id']}"
        answers = []
        for method, suffix, body in (
            ("PATCH", "", DEEP),
            ("PATCH", "", b"not json"),
            ("POST", "/secret/rotate", DEEP),
            ("POST", "/redrive", b"\x00\x01"),
        ):
            response = await client.request(
                method, path + suffix, data=body, headers={**B, "Content-Type": "application/json"}
            )
            answers.append((response.status, response.content_type))
        mine = await client.get(path, headers=A)
        assert mine.status == 200
    assert answers == [(404, "application/problem+json")] * 4


@pytest.mark.parametrize("body", [DEEP, b'{"url": ' * 50_000 + b"1" + b"}" * 50_000])
async def test_deeply_nested_json_is_a_4xx_not_a_crash(harness: Harness, body: bytes) -> None:
    async with api(harness) as client:
        theirs = await created(client)
        for method, path in (
            ("POST", "/v1/subscriptions"),
            ("PATCH", f"/v1/subscriptions/{theirs['id']}"),
        ):
            response = await client.request(
                method, path, data=body, headers={**A, "Content-Type": "application/json"}
            )
            assert response.status in {400, 413, 422}, await response.text()
            assert response.content_type == "application/problem+json"
