"""Imports are all-or-nothing, and a file that would wipe a partner is held for an operator.

Run on the memory twin and on the real broker; what was published is read from the topic's
end offsets (every publish is acknowledged before the import ends), so "nothing" is exact.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from tests.integration.partner_feed.conftest import IATI_FILES, OPERATOR_KEY, decide
from tests.support.topics import header, read_topic
from tests.unit.partner_feed.harness import FeedService

pytestmark = pytest.mark.timeout(120)

UNOPS = next(p for p in IATI_FILES if p.name == "unops_1.xml").read_bytes()  # 3 activities
_ACTIVITY = re.compile(rb"<iati-activity .*?</iati-activity>", re.DOTALL)


def _activities() -> list[bytes]:
    return _ACTIVITY.findall(UNOPS)


def _file(*activities: bytes) -> bytes:
    head = UNOPS[: UNOPS.index(b"<iati-activity ")]
    return head + b"\n".join(activities) + b"\n</iati-activities>\n"


def _untitled(activity: bytes) -> bytes:
    """The activity with a second, different iati-identifier: the record keeps its id but
    is quarantined (ambiguous identity is critical under the Datastore-like policy)."""
    return re.sub(
        rb"(<iati-identifier>[^<]*</iati-identifier>)",
        rb"\1<iati-identifier>XM-OTHER-1</iati-identifier>",
        activity,
        count=1,
    )


async def _published(service: FeedService) -> int:
    ends = await service.transport.end_offsets([service.records_topic])
    return sum(ends.values())


async def _events_of(service: FeedService, import_id: str, total: int) -> list[str]:
    records = await read_topic(service.transport, service.records_topic, total)
    return [
        str(header(r, "ce_type")).split(".")[-2]
        for r in records
        if orjson.loads(r.value)["import_id"] == import_id
    ]


async def test_a_truncated_upload_publishes_and_applies_nothing(service: FeedService) -> None:
    _, first = await service.upload("unctad", UNOPS)
    assert first["counts"]["new"] == 3
    before = await _published(service)
    assert before == 3
    one, two, three = _activities()
    changed = one.replace(b"Knowledge for Reform", b"Knowledge and Reform")
    extra = two.replace(b"41AAA-23652-001", b"41AAA-99999-001")
    body = _file(changed, extra, two, three)
    cut = body[: body.rindex(b"<iati-activity ") + 200]  # stops inside the last activity
    _, partial = await service.upload("unctad", cut)
    assert partial["status"] == "failed" and partial["fatal"]["code"] == "malformed-input"
    # The records read before the fault are reported (one changed, one new, one unchanged) ...
    counts = partial["counts"]
    assert (counts["changed"], counts["new"], counts["unchanged"]) == (1, 1, 1)
    assert counts["removed"] == 0 and partial["progress"]["published"] == 0
    # ... but not one event was published, and the partner's records did not move.
    assert await _published(service) == before
    _, again = await service.upload("unctad", UNOPS)
    assert again["status"] == "completed"
    assert (again["counts"]["unchanged"], again["counts"]["new"]) == (3, 0)
    assert await _published(service) == before


async def test_the_removal_guard_holds_a_wipe_until_an_operator_decides(
    service: FeedService,
) -> None:
    _, first = await service.upload("unctad", UNOPS)
    assert first["counts"]["new"] == 3
    one, _two, _three = _activities()
    # A valid file whose only record is rejected: the partner's export broke, not its data.
    status, held = await service.upload("unctad", _file(_untitled(one)))
    assert status == 201 and held["status"] == "held"
    assert held["counts"]["quarantined"] == 1 and held["counts"]["removed"] == 0
    # The quarantined record is still sent by the partner: two removals, not three.
    assert held["held_removals"] == {"records": 2, "existing": 3, "share": 0.5, "decision": None}
    assert await _published(service) == 3
    _, shown = await service.get_json(f"/v1/imports/{held['id']}", "unctad")
    assert shown["status"] == "held" and shown["held_removals"]["records"] == 2

    # Partners cannot decide; an operator can discard, and nothing is removed.
    async with service.http.post(
        service.url(f"/v1/imports/{held['id']}/held-removals"),
        json={"decision": "apply"},
        headers=service.auth("unctad"),
    ) as resp:
        assert resp.status == 401
    status, discarded = await decide(service, held["id"], "discard")
    assert status == 200 and discarded["status"] == "completed"
    assert discarded["held_removals"]["decision"] == "discarded"
    assert discarded["counts"]["removed"] == 0 and await _published(service) == 3
    status, twice = await decide(service, held["id"], "apply")
    assert status == 409 and twice["code"] == "not_held"

    # The same broken file again is held again (the records are all still there) ...
    _, again = await service.upload("unctad", _file(_untitled(one)))
    assert again["status"] == "held" and again["held_removals"]["records"] == 2
    # ... a broken file after it changes nothing, so the hold stands ...
    _, broken = await service.upload("unctad", UNOPS[:-300])
    assert broken["status"] == "failed"
    _, still = await service.get_json(f"/v1/imports/{again['id']}", "unctad")
    assert still["status"] == "held"
    # ... and a later import that reads its file to the end supersedes the hold.
    _, later = await service.upload("unctad", UNOPS)
    assert later["status"] == "completed" and later["counts"]["unchanged"] == 3
    _, superseded = await service.get_json(f"/v1/imports/{again['id']}", "unctad")
    assert superseded["status"] == "completed"
    assert superseded["held_removals"]["decision"] == "superseded"
    status, _ = await decide(service, again["id"], "apply")
    assert status == 409

    # Held once more, then applied: exactly the two unmentioned records are removed.
    _, third = await service.upload("unctad", _file(_untitled(one)))
    assert third["status"] == "held"
    status, applied = await decide(service, third["id"], "apply")
    assert status == 200 and applied["counts"]["removed"] == 2
    assert applied["held_removals"]["decision"] == "applied"
    assert sorted(await _events_of(service, third["id"], 5)) == ["removed", "removed"]


async def test_removals_under_the_guards_share_go_through(service: FeedService) -> None:
    _, first = await service.upload("unctad", UNOPS)
    assert first["counts"]["new"] == 3
    one, two, _three = _activities()
    _, report = await service.upload("unctad", _file(one, two))
    assert report["status"] == "completed" and report["held_removals"] is None
    assert (report["counts"]["unchanged"], report["counts"]["removed"]) == (2, 1)
    assert await _events_of(service, report["id"], 4) == ["removed"]


async def test_deciding_needs_an_operator_key_and_a_decision(service: FeedService) -> None:
    url = service.url("/v1/imports/nope/held-removals")
    auth = {"Authorization": f"Bearer {OPERATOR_KEY}"}
    async with service.http.post(url, json={"decision": "maybe"}, headers=auth) as resp:
        assert resp.status == 422
    async with service.http.post(url, json={"decision": "apply"}, headers=auth) as resp:
        assert resp.status == 404
    async with service.http.post(url, json={"decision": "apply"}) as resp:
        assert resp.status == 401


async def test_the_import_reports_its_progress(service: FeedService) -> None:
    _, report = await service.upload("unctad", UNOPS)
    progress: dict[str, Any] = report["progress"]
    assert progress == {
        "phase": "done",
        "records": 3,
        "bytes": len(UNOPS),
        "bytes_total": len(UNOPS),
        "published": 3,
    }
