"""Uploads through the HTTP API: reports, quarantine, change detection, events."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.integration.partner_feed.conftest import EXAMPLE_203, IATI_FILES, decide, read
from tests.support.topics import header, read_topic
from tests.unit.partner_feed.harness import FeedService

pytestmark = pytest.mark.timeout(120)


def _types(records: list[Any]) -> list[str]:
    return [str(header(r, "ce_type")) for r in records]


@pytest.mark.parametrize("path", IATI_FILES, ids=lambda p: p.name)
async def test_every_real_file_uploads_to_a_report(service: FeedService, path: Path) -> None:
    status, report = await service.upload("unctad", read(path))
    assert status == 201
    counts = report["counts"]
    assert counts["records"] == counts["accepted"] + counts["quarantined"]
    assert counts["new"] == counts["accepted"]
    for entry in report["quarantined"]:
        assert entry["findings"], entry
        assert all(f["severity"] in {"critical", "error", "warning"} for f in entry["findings"])
        assert all(f["location"].get("line") for f in entry["findings"])
    if path.name.startswith("organisation-"):
        assert report["status"] == "failed"
        assert report["fatal"]["code"] == "wrong-root-element"
    else:
        assert report["status"] == "completed" and counts["records"] > 0
    assert len(await service.events(service.records_topic, counts["new"])) == counts["new"]
    again = await service.get_json(f"/v1/imports/{report['id']}", "unctad")
    assert again == (200, report)
    health = await service.http.get(service.url("/healthz"))
    assert health.status == 200


async def test_reupload_emits_nothing_and_a_changed_file_emits_changes(
    service: FeedService,
) -> None:
    original = EXAMPLE_203.read_bytes()
    status, first = await service.upload("unctad", original)
    assert (status, first["counts"]["new"]) == (201, 1)

    status, second = await service.upload("unctad", original)
    assert second["counts"]["unchanged"] == 1 and second["counts"]["new"] == 0

    changed = original.replace(
        b"<narrative>Activity title</narrative>", b"<narrative>New</narrative>"
    )
    _, third = await service.upload("unctad", gzip.compress(changed))
    assert third["counts"]["changed"] == 1
    records = await read_topic(service.transport, service.records_topic, 2)
    # Exactly new then changed: the identical re-upload emitted nothing in between.
    assert _types(records) == [
        "org.wipo.tabridge.partner.record.new.v1",
        "org.wipo.tabridge.partner.record.changed.v1",
    ]
    assert orjson.loads(records[-1].value)["changed_fields"] == ["titles"]
    assert records[-1].key == b"unctad:AA-AAA-123456789-ABC123"

    other = original.replace(b"AA-AAA-123456789-ABC123", b"AA-AAA-123456789-XYZ999")
    _, fourth = await service.upload("unctad", other)
    # Removing the partner's only record passes the removal guard's share: held.
    assert (fourth["status"], fourth["counts"]["new"], fourth["counts"]["removed"]) == (
        "held",
        1,
        0,
    )
    assert fourth["held_removals"] == {
        "records": 1, "existing": 1, "share": 0.5, "decision": None
    }  # fmt: skip
    status, decided = await decide(service, fourth["id"], "apply")
    assert (status, decided["status"], decided["counts"]["removed"]) == (200, "completed", 1)
    records = await read_topic(service.transport, service.records_topic, 4)
    by_key: dict[bytes, list[str]] = {}
    for record in records:
        by_key.setdefault(record.key, []).append(str(header(record, "ce_type")).split(".")[-2])
    assert by_key == {
        b"unctad:AA-AAA-123456789-ABC123": ["new", "changed", "removed"],
        b"unctad:AA-AAA-123456789-XYZ999": ["new"],
    }


async def test_a_truncated_file_keeps_what_it_read_and_removes_nothing(
    service: FeedService,
) -> None:
    body = IATI_FILES[-1].read_bytes()  # unops: three activities
    _, full = await service.upload("unctad", body)
    assert full["counts"]["new"] == 3
    cut = body[: body.rindex(b"<iati-activity ")]
    _, partial = await service.upload("unctad", cut)
    assert partial["status"] == "failed" and partial["fatal"]["code"] == "malformed-input"
    assert partial["counts"]["unchanged"] == 2 and partial["counts"]["removed"] == 0


async def test_duplicate_ids_in_one_file_quarantine_the_later_one(service: FeedService) -> None:
    body = EXAMPLE_203.read_bytes()
    start = body.index(b"<iati-activity ")
    end = body.rindex(b"</iati-activity>") + len(b"</iati-activity>")
    doubled = body[:end] + b"\n" + body[start:end] + body[end:]
    _, report = await service.upload("unctad", doubled)
    assert report["counts"]["new"] == 1 and report["counts"]["duplicates"] == 1
    [entry] = report["quarantined"]
    assert entry["findings"][-1]["code"] == "rule.identifier.duplicate"
