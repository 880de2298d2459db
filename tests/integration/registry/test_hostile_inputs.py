"""Hostile input to the registry over real HTTP: each a typed 4xx, never a 5xx.

Text XML 1.0 cannot hold is refused with the code point and its position; versions and
ETags are parsed within bounds; bodies that do not decode, nest too deep or use an
unknown coding are refused; a revoked key stops working at once.
"""

from __future__ import annotations

import gzip
from typing import Any

import orjson
import pytest

from services.registry.state import KEYS
from tests.integration.registry.conftest import Registry
from tests.support.activities import activity_doc

JSON = {"Content-Type": "application/json"}


async def _created(registry: Registry) -> dict[str, Any]:
    status, body, _ = await registry.call("POST", "/v1/activities", json=activity_doc())
    assert status == 201, body
    return dict(body)


@pytest.mark.parametrize(
    ("doc", "pointer", "code_point", "position"),
    [
        (activity_doc(title={"en": "ab\u0000c"}), "/title/en", "U+0000", 2),
        (activity_doc(title={"fr": "x\u0001"}), "/title/fr", "U+0001", 1),
        (activity_doc(description={"en": "tab\tok, vt\u000b no"}), "/description/en", "U+000B", 10),
        (activity_doc(title={"en": "bad \ufffe"}), "/title/en", "U+FFFE", 4),
        (
            activity_doc(lead_unit={"kind": "programme", "name": "P\u001f"}),
            "/lead_unit/name",
            "U+001F",
            1,
        ),
        (
            activity_doc(external_refs={"iati_identifiers": ["XM-\u0008-1"]}),
            "/external_refs/iati_identifiers/0",
            "U+0008",
            3,
        ),
    ],
)
async def test_text_xml_cannot_hold_is_refused_with_the_code_point_and_position(
    memory_registry: Registry, doc: dict[str, Any], pointer: str, code_point: str, position: int
) -> None:
    status, body, resp = await memory_registry.call("POST", "/v1/activities", json=doc)
    assert (status, resp.content_type) == (422, "application/problem+json"), body
    [error] = [e for e in body["errors"] if e["pointer"] == pointer]
    assert f"{code_point} at position {position}" in error["message"]


async def test_tab_newline_and_astral_characters_are_fine(memory_registry: Registry) -> None:
    doc = activity_doc(description={"en": "line one\nline two\r\n\tindented \U0001f30d"})
    status, body, _ = await memory_registry.call("POST", "/v1/activities", json=doc)
    assert status == 201, body


async def test_a_lone_surrogate_is_refused(memory_registry: Registry) -> None:
    raw = orjson.dumps(activity_doc()).replace(b"Kenya", b"Ken\\udc00ya", 1)
    status, body, _ = await memory_registry.call("POST", "/v1/activities", data=raw, headers=JSON)
    assert status in {400, 422}, body


async def test_a_withdraw_reason_with_a_control_character_is_refused(
    memory_registry: Registry,
) -> None:
    created = await _created(memory_registry)
    status, body, _ = await memory_registry.call(
        "POST", f"/v1/activities/{created['id']}/withdraw", json={"reason": "dup\u0007"}
    )
    assert status == 422, body
    assert "U+0007 at position 3" in body["errors"][0]["message"]


async def test_versions_and_etags_are_parsed_within_bounds(memory_registry: Registry) -> None:
    created = await _created(memory_registry)
    path = f"/v1/activities/{created['id']}"
    answers: dict[str, int] = {}
    for name, version in {
        "40 digits": "9" * 40,
        "2^63": str(2**63),
        "2^63-1": str(2**63 - 1),
        "zero": "0",
        "superscript two": "\u00b2",
        "arabic-indic one": "\u0661",
        "letters": "abc",
        "negative": "-1",
    }.items():
        status, _, _ = await memory_registry.call("GET", f"{path}/versions/{version}")
        answers[name] = status
    assert answers == {
        "40 digits": 404,
        "2^63": 404,
        "2^63-1": 404,
        "zero": 404,
        "superscript two": 400,
        "arabic-indic one": 400,
        "letters": 400,
        "negative": 400,
    }
    for if_match in ('"' + "9" * 5000 + '"', "9" * 5000, '"\u00b2"', '"-1"', "*", '"0"'):
        status, body, resp = await memory_registry.call(
            "PATCH",
            path,
            data=b'{"stage": "implementation"}',
            headers={"Content-Type": "application/merge-patch+json", "If-Match": if_match},
        )
        assert (status, resp.content_type) == (412, "application/problem+json"), (if_match, body)


async def test_bodies_that_do_not_decode_or_nest_too_deep_are_4xx(
    memory_registry: Registry,
) -> None:
    created = await _created(memory_registry)
    cases: list[tuple[str, str, bytes, dict[str, str]]] = [
        ("POST", "/v1/activities", b"garbage" * 100, {**JSON, "Content-Encoding": "gzip"}),
        (
            "POST",
            "/v1/activities",
            b"\x1f\x8b" + b"\x00" * 50,
            {**JSON, "Content-Encoding": "gzip"},
        ),
        ("POST", "/v1/activities", b"garbage", {**JSON, "Content-Encoding": "deflate"}),
        ("POST", "/v1/activities", b"{}", {**JSON, "Content-Encoding": "compress"}),
        ("POST", "/v1/activities", b"[" * 100_000 + b"]" * 100_000, JSON),
        (
            "PATCH",
            f"/v1/activities/{created['id']}",
            b'{"a":' * 1000 + b"1" + b"}" * 1000,
            {"Content-Type": "application/merge-patch+json"},
        ),
        (
            "PATCH",
            f"/v1/activities/{created['id']}",
            b'{"title":' * 900 + b"1" + b"}" * 900,
            {"Content-Type": "application/merge-patch+json"},
        ),
        ("POST", "/v1/activities", b'{"title": 1e999999}', JSON),
        ("POST", "/v1/activities", b'{"title": ' + b"9" * 100_000 + b"}", JSON),
    ]
    answers = []
    for method, path, body, headers in cases:
        status, problem, resp = await memory_registry.call(method, path, data=body, headers=headers)
        answers.append((status, resp.content_type))
        assert 400 <= status < 500, (path, headers, problem)
    assert all(ct == "application/problem+json" for _, ct in answers), answers
    # A well-formed gzip body is read as its content.
    status, _, _ = await memory_registry.call(
        "POST",
        "/v1/activities",
        data=gzip.compress(orjson.dumps(activity_doc())),
        headers={**JSON, "Content-Encoding": "gzip"},
    )
    assert status == 201


async def test_a_revoked_key_stops_working_at_once(memory_registry: Registry) -> None:
    keys = memory_registry.server.app[KEYS]
    key = await keys.create("short-lived", frozenset({"read"}))
    headers = {"Authorization": f"Bearer {key}"}
    async with memory_registry.http.get(
        memory_registry.url("/v1/activities"), headers=headers
    ) as r:
        assert r.status == 200
    await keys.revoke("short-lived")
    async with memory_registry.http.get(
        memory_registry.url("/v1/activities"), headers=headers
    ) as r:
        assert r.status == 401
