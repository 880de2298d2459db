"""Datastore-like quarantine through the HTTP API: a real publisher file whose every
activity breaks rule 1.1.21 (a warning) is accepted with the finding on the import report,
on each `partner.record.new` event and in the partner quality view; a partner whose
mapping blocks that rule gets the same file quarantined."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from shared import Transport
from tests.integration.partner_feed.conftest import SHARED_DATA
from tests.unit.partner_feed.harness import FeedService, start_feed_service

pytestmark = pytest.mark.timeout(120)
DFID = SHARED_DATA / "iati" / "publishers" / "dfid_1.xml"


@pytest.fixture
async def svc(tmp_path: Path, transport: Transport, unique: str) -> AsyncIterator[FeedService]:
    service = await start_feed_service(
        tmp_path,
        transport,
        f"pq{unique}",
        partners=(
            {"id": "dfid"},
            {"id": "strict", "quarantine": {"block_rules": ["1.1.21"]}},
        ),
    )
    try:
        yield service
    finally:
        await service.close()


async def test_warnings_are_attached_not_quarantined(svc: FeedService) -> None:
    status, report = await svc.upload("dfid", DFID.read_bytes())
    assert status == 201
    assert (report["counts"]["accepted"], report["counts"]["quarantined"]) == (8, 0)
    assert report["finding_counts"]["iati-rule.1.1.21"] == 8
    assert all(
        "1.1.21" in {f.get("rule") for f in entry["findings"]} for entry in report["warnings"]
    )
    events = [orjson.loads(r.value) for r in await svc.events(svc.records_topic, 8)]
    assert len(events) == 8
    for event in events:
        rules = {(f.get("rule"), f["severity"]) for f in event["findings"]}
        assert ("1.1.21", "warning") in rules
    status, view = await svc.get_json("/v1/partners/dfid/quality", "dfid")
    assert status == 200
    assert view["import"]["report_id"] == report["id"]
    by_rule = {g["rule"]: g for g in view["findings"] if g["rule"]}
    assert by_rule["1.1.21"]["records"] == 8
    assert by_rule["1.1.21"]["quarantined_records"] == 0
    assert by_rule["1.1.21"]["examples"][0].startswith("GB-1-")
    assert view["policy"] == {"block": "critical", "block_rules": []}


async def test_a_partner_mapping_can_block_a_rule(svc: FeedService) -> None:
    status, report = await svc.upload("strict", DFID.read_bytes())
    assert status == 201
    assert (report["counts"]["accepted"], report["counts"]["quarantined"]) == (0, 8)
    status, view = await svc.get_json("/v1/partners/strict/quality", "strict")
    by_rule = {g["rule"]: g for g in view["findings"] if g["rule"]}
    assert by_rule["1.1.21"]["quarantined_records"] == 8
