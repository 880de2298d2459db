"""The hostile-input suite through the upload endpoint: each attack gets a typed error,
the service stays up, and a clean feed uploaded alongside loses nothing."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import orjson
import pytest

from shared import Transport
from tests.integration.partner_feed.conftest import EXAMPLE_203, leftovers
from tests.unit.partner_feed.harness import FeedService, start_feed_service

pytestmark = pytest.mark.timeout(120)

HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n'
ROOT = b'<iati-activities version="2.03">'
BILLION_LAUGHS = (
    HEAD
    + (
        b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    )
    + ROOT
    + b"<iati-activity><iati-identifier>&lol3;</iati-identifier></iati-activity></iati-activities>"
)
XXE = (
    HEAD
    + b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    + ROOT
    + b"<iati-activity><iati-identifier>&xxe;</iati-identifier></iati-activity></iati-activities>"
)

CASES: dict[str, tuple[str, bytes, str]] = {
    "billion-laughs": ("iati", BILLION_LAUGHS, "forbidden-declaration"),
    "xxe": ("iati", XXE, "forbidden-declaration"),
    "gzip-bomb": ("iati", gzip.compress(HEAD + ROOT + b" " * 30_000_000), "decompression-bomb"),
    "truncated": ("iati", EXAMPLE_203.read_bytes()[:-400], "malformed-input"),
    "wrong-root": ("iati", HEAD + b"<html><body/></html>", "wrong-root-element"),
    "invalid-utf8": (
        "iati",
        HEAD + ROOT + b"<iati-activity>\xff\xfe</iati-activity>",
        "invalid-encoding",
    ),
    "deep-json": ("tfm-json", b"[" * 5000 + b"]" * 5000, "nesting-too-deep"),
}


def _codes(report: dict[str, object]) -> set[str]:
    fatal = report.get("fatal")
    codes = {fatal["code"]} if isinstance(fatal, dict) else set()
    for entry in report.get("quarantined", []):  # type: ignore[attr-defined]
        codes |= {f["code"] for f in entry["findings"]}
    return codes


async def test_hostile_uploads_get_typed_errors_and_a_clean_feed_survives(
    service: FeedService,
) -> None:
    names = list(CASES)
    results = await asyncio.gather(
        service.upload("eac", EXAMPLE_203.read_bytes()),
        *(service.upload("unctad", CASES[n][1], fmt=CASES[n][0]) for n in names),
    )
    (clean_status, clean), hostile = results[0], results[1:]
    for name, (status, report) in zip(names, hostile, strict=True):
        expected = CASES[name][2]
        assert status == 201, (name, report)
        assert expected in _codes(report), (name, report.get("fatal"), report.get("quarantined"))
        assert report["counts"]["accepted"] == 0, name
    assert clean_status == 201 and clean["counts"]["new"] == 1
    assert len(await service.events(service.records_topic, 1)) == 1
    async with service.http.get(service.url("/healthz")) as resp:
        assert resp.status == 200


async def test_oversized_bodies_get_413_and_the_service_stays_up(
    tmp_path: Path, transport: Transport, unique: str
) -> None:
    svc = await start_feed_service(tmp_path, transport, f"big{unique}", upload_max_bytes=64 * 1024)
    try:
        body = HEAD + ROOT + b" " * 200_000 + b"</iati-activities>"
        status, problem = await svc.upload("unctad", body)
        assert status == 413 and problem["code"] == "payload_too_large"

        async def chunks() -> object:
            for _ in range(10):
                yield b" " * 20_000

        async with svc.http.post(
            svc.url("/v1/imports"),
            params={"partner": "unctad"},
            data=chunks(),
            headers=svc.auth("unctad"),
        ) as resp:
            assert resp.status == 413
            assert resp.content_type == "application/problem+json"
            assert orjson.loads(await resp.read())["code"] == "payload_too_large"
        status, report = await svc.upload("unctad", EXAMPLE_203.read_bytes())
        assert status == 201 and report["counts"]["new"] == 1
        assert leftovers(tmp_path) == []
    finally:
        await svc.close()
