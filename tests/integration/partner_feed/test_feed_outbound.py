"""Outbound feeds from the event stream: round trip, ETag/304, `since`, filters, withdrawals."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest
from lxml import etree

from services.partner_feed.feed_mapping import STATUS_CODES
from services.partner_feed.formats.errors import Location
from services.partner_feed.validation.ruleset import standard_ruleset
from shared.domain import Activity, Stage, Status
from shared.events import ActivityUpdated, ActivityWithdrawn, GoalTag, SdgTagsAssigned
from tests.integration.partner_feed.conftest import SCHEMA
from tests.support.waiting import eventually
from tests.unit.partner_feed.harness import FeedService, make_activity, registered

pytestmark = pytest.mark.timeout(120)

PARTNERS: list[dict[str, Any]] = [
    {"name": "UNCTAD", "kind": "un_entity", "role": "funding", "ref": "XM-DAC-41111"},
    {"name": "Senegal IP office (OAPI)", "kind": "ip_office", "role": "implementing"},
]


def _activities() -> list[Activity]:
    return [
        make_activity(1),
        make_activity(
            2,
            title={"en": "WIPO GREEN matchmaking", "fr": "Mise en relation WIPO GREEN"},
            description={"en": "Green technology matchmaking.", "es": "Tecnologías verdes."},
            category="public_private_partnership",
            status="pipeline",
            beneficiaries=[{"country": c} for c in ("SN", "CI", "ML", "BF", "NE", "TG", "BJ")],
            regional_communities=["ECOWAS", "UEMOA"],
            partners=PARTNERS,
            dates={
                "planned_start": "2025-03-01",
                "actual_start": "2025-04-01",
                "planned_end": "2026-12-31",
                "actual_end": "2025-11-30",
            },
            da_recommendations=[19, 25, 30],
            gender_marker=2,
            sdg={"goals": [7, 13], "targets": ["7.b", "13.3", "17.7"]},
        ),
        make_activity(
            3,
            title={"ar": "استراتيجية الملكية الفكرية"},
            description={},
            gender_marker=None,
            sdg={},
        ),
    ]


def _count(body: bytes) -> int:
    return body.count(b"<iati-activity ")


async def _feed_holds(service: FeedService, n: int) -> bytes:
    async def probe() -> bytes | None:
        _, body, _ = await service.feed("iati.xml")
        return body if _count(body) == n else None

    found: bytes = await eventually(probe, message=f"{n} activities in the feed")
    return found


async def test_round_trip_feed_validates_and_reimports_equal(service: FeedService) -> None:
    activities = _activities()
    await service.publish([registered(a) for a in activities])
    body = await _feed_holds(service, 3)

    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    document = etree.fromstring(body)
    assert schema.validate(document), schema.error_log
    assert b"contact-info" not in body and b"tests" not in body  # no personal data, no actors
    # Validator-clean as served: no Standard Ruleset error, a sector on every activity.
    ruleset, today = standard_ruleset(), datetime.now(UTC).date()
    served = document.findall("iati-activity")
    errors = [
        (f.rule, f.message)
        for a in served
        for f in ruleset.evaluate(a, today=today, locate=lambda e: Location(line=e.sourceline))
        if f.severity != "warning"
    ]
    assert errors == []
    assert all(a.find("sector[@vocabulary='1']") is not None for a in served)
    refs = {o.get("ref") for o in document.iter("participating-org")}
    assert refs == {"XI-IATI-WIPO", "XM-DAC-41111", None}  # OAPI: narrative only

    status, report = await service.upload("unctad", body)
    assert status == 201 and report["counts"]["new"] == 3, report["quarantined"]
    events = await service.events(service.records_topic, 3)
    records = {r["record_id"]: r for r in (orjson.loads(e.value)["record"] for e in events)}
    for activity in activities:
        record = records[activity.iati_identifier]
        assert record["titles"] == activity.title
        assert record["descriptions"] == (activity.description or activity.title)
        assert record["status"] == STATUS_CODES[activity.status]
        for name in ("planned_start", "actual_start", "planned_end", "actual_end"):
            value = getattr(activity.dates, name)
            assert record[name] == (value.isoformat() if value else None), name
        countries = record["recipient_countries"]
        assert [c["code"] for c in countries] == activity.countries()
        assert sum(Decimal(c["percentage"]) for c in countries) == 100
        assert list(record["regional_communities"]) == activity.regional_communities
        assert [int(g) for g in record["sdg_goals"]] == activity.sdg.goals
        assert list(record["sdg_targets"]) == activity.sdg.targets
        assert record["gender_marker"] == activity.gender_marker
        assert list(record["da_recommendations"]) == activity.da_recommendations
        orgs = [(p["role"], p["name"]["en"]) for p in record["participating_orgs"]]
        roles = {"funding": "1", "implementing": "4"}
        assert orgs[1:] == [(roles[p.role], p.name) for p in activity.partners]
        assert record["reporting_org_ref"] == "XI-IATI-WIPO"

    links = [orjson.loads(e.value) for e in await service.events(service.links_topic, 3)]
    assert {(x["activity_id"], x["confidence"], x["method"]) for x in links} == {
        (a.id, 1.0, "identifier") for a in activities
    }


async def test_etag_since_filters_tags_and_withdrawals(service: FeedService) -> None:
    one, two, three = _activities()
    await service.publish([registered(one), registered(two), registered(three)])
    await _feed_holds(service, 3)

    status, _, headers = await service.feed("tfm.json")
    etag, cursor = headers["ETag"], headers["X-Next-Cursor"]
    status, body, _ = await service.feed("tfm.json", headers={"If-None-Match": etag})
    assert (status, body) == (304, b"")

    _, body, _ = await service.feed("tfm.json", {"country": "CI,ML"})
    assert [r["record_id"] for r in orjson.loads(body)] == [two.iati_identifier]
    _, body, _ = await service.feed(
        "tfm.json", {"community": "EAC", "category": "national_ip_strategy"}
    )
    assert {r["record_id"] for r in orjson.loads(body)} == {
        one.iati_identifier,
        three.iati_identifier,
    }
    status, body, _ = await service.feed("tfm.json", {"sdg": "18"})
    assert status == 400 and orjson.loads(body)["errors"][0]["pointer"] == "sdg"

    changed = one.model_copy(update={"version": 2, "stage": Stage.IMPLEMENTATION})
    gone = two.model_copy(update={"version": 2, "status": Status.WITHDRAWN})
    tags = SdgTagsAssigned(
        activity_id=three.id,
        activity_version=1,
        model_id="test",
        outcome="tagged",
        goals=[
            GoalTag(goal=4, score=0.9, decision="assigned"),
            GoalTag(goal=5, score=0.2, decision="rejected"),
        ],
    )
    await service.publish(
        [
            ActivityUpdated(activity_id=one.id, version=2, actor="t", state=changed),
            ActivityWithdrawn(activity_id=two.id, version=2, actor="t", state=gone, reason="dup"),
            tags,
        ]
    )

    async def moved() -> Any:
        _, body, _ = await service.feed("tfm.json", {"since": cursor})
        records = orjson.loads(body)
        return records if len(records) == 3 else None

    changes = {r["record_id"]: r for r in await eventually(moved, message="3 changes")}
    assert changes[two.iati_identifier]["status"] == "cancelled"
    assert changes[three.iati_identifier]["sdg_goals"] == [4]
    status, _, _ = await service.feed("tfm.json", headers={"If-None-Match": etag})
    assert status == 200
    _, body, headers = await service.feed("iati.xml")
    assert _count(body) == 2 and two.iati_identifier.encode() not in body
    assert b'<tag vocabulary="2" code="4"/>' in body and b'code="5"' not in body
    _, body, _ = await service.feed("tfm.json", {"since": headers["X-Next-Cursor"]})
    assert orjson.loads(body) == []
    _, csv_body, _ = await service.feed("tfm.csv", {"sdg": "4"})
    assert csv_body.count(b"\r\n") == 2 and three.iati_identifier.encode() in csv_body
