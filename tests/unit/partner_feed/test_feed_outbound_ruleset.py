"""The outbound feeds for the demo data: IATI XML passes the 2.03 schema and the IATI
Standard Ruleset with no error, every activity with a sector; the TFM export passes the
published ``contracts/tfm`` schema."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]  # no stubs in the dev set
from lxml import etree

from services.partner_feed.feed_mapping import (
    DAC_SECTORS,
    Publisher,
    sectors_of,
    to_feed_activity,
)
from services.partner_feed.formats import FeedActivity, to_tfm, write_iati, write_tfm_json
from services.partner_feed.formats.errors import Location
from services.partner_feed.formats.vocabularies import is_org_identifier
from services.partner_feed.validation.codelists import codelist
from services.partner_feed.validation.findings import Severity
from services.partner_feed.validation.ruleset import standard_ruleset
from services.partner_feed.validation.schema import activity_schema
from shared.domain import Activity, Category

REPO = Path(__file__).resolve().parents[3]
DEMO = REPO / "deploy" / "demo-data" / "activities.json"
TFM_SCHEMA = REPO / "contracts" / "tfm" / "tfm-record.v1.schema.json"
PUBLISHER = Publisher(ref="XM-DAC-41140", name="World Intellectual Property Organization")
TODAY = date(2026, 3, 1)
"""Mid-way through the demo: some actual start dates lie after it."""
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _demo() -> list[Activity]:
    docs = json.loads(DEMO.read_text(encoding="utf-8"))
    return [
        Activity.model_validate(
            {
                **doc,
                "id": f"TA-2026-{n:06d}",
                "version": 1,
                "iati_identifier": f"{PUBLISHER.ref}-TA-2026-{n:06d}",
                "created_at": EPOCH,
                "updated_at": EPOCH + timedelta(hours=n),
                "created_by": "demo",
                "updated_by": "demo",
            }
        )
        for n, doc in enumerate(docs, start=1)
    ]


def _published() -> list[FeedActivity]:
    out = [to_feed_activity(a, PUBLISHER, today=TODAY) for a in _demo()]
    assert all(a is not None for a in out)
    return [a for a in out if a is not None]


def _feed() -> etree._Element:
    body = b"".join(write_iati(_published(), generated=datetime(2026, 3, 1, tzinfo=UTC)))
    return etree.fromstring(body)


def test_demo_feed_passes_the_schema_and_the_standard_ruleset_with_no_error() -> None:
    doc = _feed()
    activities = doc.findall("iati-activity")
    assert len(activities) == len(_demo()) > 10
    schema = activity_schema()
    assert schema.validate(doc), schema.error_log
    ruleset = standard_ruleset()
    findings = [
        f
        for a in activities
        for f in ruleset.evaluate(a, today=TODAY, locate=lambda el: Location(line=el.sourceline))
    ]
    errors = [(f.rule, f.message, f.location.line) for f in findings if f.severity != "warning"]
    assert errors == []
    warnings = Counter(f.rule for f in findings)
    # 1.14.8 / 1.8.13 need the org-id.guide list; nothing else may warn.
    assert set(warnings) <= {"1.14.8"}, warnings
    for a in activities:
        dac = a.findall("sector[@vocabulary='1']")
        assert dac and sum(Decimal(s.get("percentage")) for s in dac) == 100
        assert a.find("sector[@vocabulary='99']/narrative") is not None
        assert a.find("recipient-country") is not None or a.find("recipient-region") is not None


def test_participating_org_refs_are_organisation_identifiers_or_absent() -> None:
    doc = _feed()
    orgs = doc.findall(".//participating-org")
    assert orgs
    for org in orgs:
        ref = org.get("ref")
        assert ref is None or is_org_identifier(ref), ref
        assert org.find("narrative") is not None
    names = {o.findtext("narrative"): o.get("ref") for o in orgs}
    assert any(name and "Health" in name for name in names)  # the demo's WHO partner
    assert "WHO" not in {o.get("ref") for o in orgs}


def test_every_category_has_dac_codes_summing_to_100() -> None:
    sectors = codelist("Sector")
    for category in Category:
        shares = DAC_SECTORS[category]
        assert sum(share for _, share in shares) == 100
        assert all(code in sectors for code, _ in shares)
        own = sectors_of(category)[-1]
        assert (own.vocabulary, own.code, own.percentage) == ("99", category.value, Decimal(100))


def test_actual_dates_after_today_go_out_as_planned() -> None:
    activity = _demo()[0]  # actual start 2026-02-02
    early = to_feed_activity(activity, PUBLISHER, today=date(2026, 1, 20))
    assert early is not None
    assert early.actual_start is None and early.planned_start == activity.dates.planned_start
    later = to_feed_activity(activity, PUBLISHER, today=TODAY)
    assert later is not None and later.actual_start == activity.dates.actual_start


def test_demo_tfm_export_passes_the_published_tfm_schema() -> None:
    schema = json.loads(TFM_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    items = json.loads(b"".join(write_tfm_json(to_tfm(a) for a in _published())))
    assert len(items) == len(_demo())
    problems = [
        (i, e.json_path, e.message)
        for i, item in enumerate(items)
        for e in validator.iter_errors(item)
    ]
    assert problems == []
    refs = {p.get("iati_ref") for item in items for p in item.get("partners", [])}
    assert all(r is None or is_org_identifier(r) for r in refs)


def test_a_broken_feed_activity_is_caught_by_the_ruleset() -> None:
    # The same check sees an error when there is one: an activity without a sector.
    doc = _feed()
    activity = doc.find("iati-activity")
    assert activity is not None
    for sector in activity.findall("sector"):
        activity.remove(sector)
    found = {
        f.rule
        for f in standard_ruleset().evaluate(
            activity, today=TODAY, locate=lambda el: Location(line=el.sourceline)
        )
        if f.severity is Severity.ERROR
    }
    assert "6.2.2" in found
