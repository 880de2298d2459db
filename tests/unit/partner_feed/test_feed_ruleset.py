"""The IATI Standard Ruleset: the shipped copy, severities rule by rule, the evaluator on
the cases the issue names, tolerant reading, implied SDG goals and the quarantine policy."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from services.partner_feed.formats import PartnerRecord, SourceFormat, ingest
from services.partner_feed.formats.errors import Location
from services.partner_feed.formats.record import CountryShare, RegionShare, Sector
from services.partner_feed.validation.rules import RECORD_RULES, check_rules
from services.partner_feed.validation.ruleset import RULES, Ruleset, standard_ruleset
from services.partner_feed.validation.verdict import QuarantinePolicy

REPO = Path(__file__).resolve().parents[3]
SHARED_RULESET = REPO.parent / "shared" / "data" / "iati" / "rulesets" / "standard.json"
SHIPPED = REPO / "services" / "partner_feed" / "validation" / "rulesets" / "standard.json"
TODAY = date(2025, 6, 30)


def _standard_cases() -> list[tuple[str, str, dict[str, Any]]]:
    """(rule name, context, case) for every case of standard.json, loops unrolled."""
    doc = json.loads(SHARED_RULESET.read_text(encoding="utf-8"))
    out = []
    for context, named in doc.items():
        for name, body in named.items():
            for case in body["cases"]:
                if name == "loop":
                    for sub, sub_body in case["do"].items():
                        out += [(sub, context, c) for c in sub_body["cases"]]
                else:
                    out.append((name, context, case))
    return out


def test_the_shipped_ruleset_is_the_standard_ruleset() -> None:
    assert SHIPPED.read_bytes() == SHARED_RULESET.read_bytes()
    assert len(_standard_cases()) == standard_ruleset().cases == 107


@pytest.mark.parametrize(
    ("rule", "case"), [(n, c) for n, _, c in _standard_cases()], ids=lambda v: str(v)[:40]
)
def test_every_rule_has_the_standard_severity_and_an_evaluator(rule: str, case: Any) -> None:
    info = standard_ruleset().rules[case["ruleInfo"]["id"]]
    assert info.severity.value == case["ruleInfo"]["severity"]
    assert rule in RULES


def test_record_level_rules_cite_standard_ids_with_standard_severities() -> None:
    by_id = {c["ruleInfo"]["id"]: c["ruleInfo"]["severity"] for _, _, c in _standard_cases()}
    assert set(RECORD_RULES) <= set(by_id)
    shares = [Decimal(s) for s in ("50", "40")]
    bad = [
        _record(identifiers={"iati_identifier": "XX-9-a/b"}, reporting_org_ref="XM-DAC-1"),
        _record(titles={}),
        _record(
            planned_start=date(2025, 2, 1),
            planned_end=date(2025, 1, 1),
            actual_start=date(2025, 5, 1),
            actual_end=date(2025, 4, 1),
        ),
        _record(actual_start=date(2030, 1, 1), actual_end=date(2030, 2, 1)),
        _record(recipient_countries=[CountryShare(code="KE", percentage=p) for p in shares]),
        _record(recipient_countries=[CountryShare(code="KE"), CountryShare(code="UG")]),
        _record(recipient_countries=[CountryShare(code="KE", percentage=Decimal(90))]),
        _record(recipient_countries=[CountryShare(code="KE", percentage=Decimal(120))]),
        _record(recipient_regions=[RegionShare(code="298"), RegionShare(code="289")]),
        _record(recipient_regions=[RegionShare(code="298", percentage=Decimal(50))]),
        _record(sectors=[Sector(code="25010", percentage=p) for p in shares]),
        _record(sectors=[Sector(code="25010"), Sector(code="15110", percentage=Decimal(1))]),
        _record(sectors=[Sector(code="25010", percentage=Decimal(101))]),
    ]
    seen: set[str] = set()
    for record in bad:
        for finding in check_rules(record, {}, today=TODAY):
            if finding.rule is not None:
                assert finding.severity.value == by_id[finding.rule], finding
                seen.add(finding.rule)
    assert seen == set(RECORD_RULES)


def _record(**fields: Any) -> PartnerRecord:
    base: dict[str, Any] = {
        "partner_id": "p",
        "record_id": "XM-DAC-1-a",
        "source_format": SourceFormat.IATI_XML,
        "titles": {"en": "t"},
        "identifiers": {"iati_identifier": "XM-DAC-1-a"},
        "reporting_org_ref": "XM-DAC-1",
    }
    return PartnerRecord.model_validate({**base, **fields})


# --- the evaluator on one activity ---------------------------------------------------------

HEAD = (
    '<iati-activity xml:lang="en" default-currency="EUR" last-updated-datetime="2025-01-01T00:00:00">'
    "<iati-identifier>XM-DAC-1-a</iati-identifier>"
    '<reporting-org ref="XM-DAC-1" type="10"><narrative>Org</narrative></reporting-org>'
    "<title><narrative>T</narrative></title>"
    '<description type="1"><narrative>D</narrative></description>'
    '<participating-org role="1" ref="XM-DAC-1"><narrative>Org</narrative></participating-org>'
    '<activity-status code="2"/><activity-date type="1" iso-date="2024-01-01"/>'
)


def _activity(body: str, head: str = HEAD) -> str:
    return head + body + "</iati-activity>"


def _rules(xml: str) -> set[str]:
    el = etree.fromstring(xml.encode())
    found = standard_ruleset().evaluate(
        el, today=TODAY, locate=lambda e: Location(line=e.sourceline)
    )
    return {f"{f.rule}:{f.severity.value}" for f in found}


SECTOR = '<sector code="25010" vocabulary="1"/>'


def test_a_clean_activity_has_no_finding() -> None:
    assert _rules(_activity('<recipient-country code="KE"/>' + SECTOR)) == set()


@pytest.mark.parametrize(
    ("geography", "expected"),
    [
        # One country at 100 % plus a region without percentage passes 3.4.1/3.4.2 as written.
        (
            '<recipient-country code="KE" percentage="100"/><recipient-region code="298" vocabulary="1"/>',
            set(),
        ),
        (
            '<recipient-country code="KE"/><recipient-country code="UG"/>',
            {"3.1.1:error", "3.1.2:error"},
        ),
        (
            '<recipient-country code="KE" percentage="60"/><recipient-country code="UG" percentage="40"/>',
            set(),
        ),
        (
            '<recipient-country code="KE" percentage="60"/><recipient-region code="298" vocabulary="1" percentage="30"/>',
            {"3.4.2:error"},
        ),
        ('<recipient-region code="298" vocabulary="1" percentage="50"/>', {"3.4.4:error"}),
        ("", {"3.7.1:error"}),
    ],
)
def test_geography_rules_as_written(geography: str, expected: set[str]) -> None:
    assert _rules(_activity(geography + SECTOR)) == expected


def test_missing_sector_and_identifier_prefix() -> None:
    head = HEAD.replace("XM-DAC-1-a", "GB-1-a")
    assert _rules(_activity('<recipient-country code="KE"/>', head)) == {
        "6.2.2:error",
        "1.1.21:warning",
    }


def test_loop_values_are_bound_not_pasted_into_the_xpath() -> None:
    evil = "1' or '1'='1"
    body = f'<recipient-country code="KE"/><sector code="a" vocabulary="{evil}" percentage="10"/>'
    body += f'<sector code="b" vocabulary="{evil}" percentage="20"/>' + SECTOR
    assert "2.1.2:error" in _rules(_activity(body))


# --- reading real-world spellings, implied goals, the policy -------------------------------

TOLERANT = _activity(
    '<recipient-country code=" ke "/>' + SECTOR
    + '<tag vocabulary="3" code="1.A"/><tag vocabulary="3" code="16.A"/>'
    + '<sector vocabulary="9" code="5.C.1"/>'
    + '<policy-marker vocabulary="1" code="1" significance=""/>',
    head=HEAD.replace('xml:lang="en"', 'xml:lang="ENG"'),
)  # fmt: skip


def _ingest(xml: str, **kw: Any) -> Any:
    doc = f'<iati-activities version="2.03">{xml}</iati-activities>'.encode()
    run = ingest(doc, source_format=SourceFormat.IATI_XML, partner_id="p", today=TODAY, **kw)
    return list(run)


def test_tolerant_reading_accepts_with_warnings() -> None:
    [outcome] = _ingest(TOLERANT)
    assert outcome.accepted
    record = outcome.record
    assert [c.code for c in record.recipient_countries] == ["KE"]
    assert record.sdg_targets == ("1.a", "16.a")
    assert record.gender_marker is None
    codes = {f.code for f in outcome.findings}
    assert {"format.whitespace", "format.code_case", "format.empty_attribute"} <= codes
    assert "format.language_code" in codes and record.titles == {"en": "T"}
    assert not [f for f in outcome.findings if f.code.startswith("codelist.")]
    # significance="" is absent: rule 6.14.1 says so, as an error that does not block.
    assert "6.14.1" in {f.rule for f in outcome.findings if f.severity == "error"}


def test_goals_implied_by_targets_and_indicators_carry_their_source() -> None:
    [outcome] = _ingest(TOLERANT)
    record = outcome.record
    assert set(record.sdg_goals) == {"1", "16", "5"}
    assert {(s.goal, s.via, s.code) for s in record.goal_sources} == {
        ("1", "tag-3", "1.a"),
        ("16", "tag-3", "16.a"),
        ("5", "sector-9", "5.c.1"),
    }
    other = _record(sdg_targets=("9.5",), sdg_goals=("17",))
    assert other.sdg_goals == ("17", "9")


def test_policy_tightens_per_partner() -> None:
    head = HEAD.replace("XM-DAC-1-a", "GB-1-a")
    xml = _activity('<recipient-country code="KE"/>' + SECTOR, head)
    assert [o.accepted for o in _ingest(xml)] == [True]
    strict = QuarantinePolicy(block_rules=("1.1.21",))
    assert [o.accepted for o in _ingest(xml, policy=strict)] == [False]
    no_sector = _activity('<recipient-country code="KE"/>')
    assert [o.accepted for o in _ingest(no_sector)] == [True]
    assert [o.accepted for o in _ingest(no_sector, policy=QuarantinePolicy(block="error"))] == [
        False
    ]


def test_only_unusable_records_are_quarantined() -> None:
    no_id = _activity(SECTOR).replace("<iati-identifier>XM-DAC-1-a</iati-identifier>", "")
    two_ids = _activity(SECTOR).replace(
        "</iati-identifier>", "</iati-identifier><iati-identifier>XM-DAC-1-b</iati-identifier>"
    )
    outcomes = _ingest(no_id + two_ids)
    assert [o.accepted for o in outcomes] == [False, False]
    reasons = [{f.code for f in o.findings if f.severity == "critical"} for o in outcomes]
    assert reasons == [{"rule.identifier.missing"}, {"rule.identifier.ambiguous"}]


@pytest.mark.parametrize("version", ["1.03", "1.0", "1"])
def test_a_10x_activity_with_a_country_and_a_region_is_accepted(version: str) -> None:
    legacy = (
        f'<iati-activity version="{version}" last-updated-datetime="2014-01-01T00:00:00">'
        "<iati-identifier>GB-CHC-1-a</iati-identifier>"
        '<reporting-org ref="GB-CHC-1" type="21">Charity</reporting-org>'
        "<title>Wells</title><description>Water</description>"
        '<participating-org role="Funding" ref="GB-CHC-1">Charity</participating-org>'
        '<activity-status code="2"/><activity-date type="start-actual" iso-date="2013-01-01"/>'
        '<recipient-country code="CD" percentage="100"/><recipient-region code="298"/>'
        '<sector vocabulary="DAC" code="14030"/>'
        '<policy-marker vocabulary="DAC" code="1" significance="1"/>'
        "</iati-activity>"
    )
    [outcome] = _ingest(legacy)
    assert outcome.accepted, outcome.findings
    assert [f for f in outcome.findings if f.severity != "warning"] == []
    record = outcome.record
    assert record.participating_orgs[0].role == "1" and record.gender_marker == 1
    assert record.sectors[0].vocabulary == "1"


def test_prefiltering_changes_no_finding() -> None:
    plain = Ruleset(json.loads(SHIPPED.read_text(encoding="utf-8")), prefilter=False)
    files = sorted((REPO.parent / "shared" / "data" / "iati").glob("*/*.xml"))
    activities = [a for f in files for a in etree.parse(str(f)).getroot().iter("iati-activity")]
    activities += [etree.fromstring(x.encode()) for x in (TOLERANT, _activity(SECTOR))]
    assert len(activities) > 15

    def run(ruleset: Ruleset, activity: Any) -> list[tuple[str | None, Location, str]]:
        found = ruleset.evaluate(
            activity, today=TODAY, locate=lambda e: Location(line=e.sourceline, path=e.tag)
        )
        return [(f.rule, f.location, f.message) for f in found]

    for activity in activities:
        assert run(standard_ruleset(), activity) == run(plain, activity)


def test_loops_evaluate_a_bounded_number_of_vocabularies() -> None:
    from services.partner_feed.validation.ruleset import MAX_LOOP_VALUES

    sectors = "".join(
        f'<sector code="a" vocabulary="v{i}" percentage="10"/>'
        f'<sector code="b" vocabulary="v{i}" percentage="10"/>'
        for i in range(200)
    )
    el = etree.fromstring(_activity('<recipient-country code="KE"/>' + SECTOR + sectors).encode())
    found = standard_ruleset().evaluate(
        el, today=TODAY, locate=lambda e: Location(line=e.sourceline)
    )
    assert [f.rule for f in found].count("2.1.2") == MAX_LOOP_VALUES


@pytest.mark.parametrize(
    ("raw", "read"), [("EN", "en"), ("eng", "en"), ("fre", "fr"), ("en-GB", "en"), ("es", "es")]
)
def test_language_codes_are_read_as_iso_639_1(raw: str, read: str) -> None:
    from services.partner_feed.formats.iati_tolerant import canonical_language

    assert canonical_language(raw) == read


def test_sharing_compiled_xpaths_and_their_results_changes_no_finding() -> None:
    """Cases and loops share compiled XPaths, so one memoised result serves them all; a
    ruleset that compiles every expression apart (nothing shared) finds the same."""
    from services.partner_feed.validation.ruleset import _xpath

    class Unshared(Ruleset):
        def _xpath(self, expr: str, loop: bool) -> Any:
            return _xpath(expr, loop)

    document = json.loads(SHIPPED.read_text(encoding="utf-8"))
    unshared = Unshared(document)
    assert len({id(c) for c in unshared._compiled.values()}) == 0
    files = sorted((REPO.parent / "shared" / "data" / "iati").glob("*/*.xml"))
    activities = [a for f in files for a in etree.parse(str(f)).getroot().iter("iati-activity")]
    vocabularies = "".join(
        f'<recipient-region code="{i}" vocabulary="{v}" percentage="10"/>'
        f'<sector code="{i}" vocabulary="{v}" percentage="10"/>'
        f'<country-budget-items vocabulary="{v}"/>'
        for i, v in enumerate(("1", "2", "99", "", "x"))
    )
    activities += [
        etree.fromstring(x.encode()) for x in (TOLERANT, _activity(SECTOR + vocabularies))
    ]

    def run(ruleset: Ruleset, activity: Any) -> list[tuple[str | None, Location, str]]:
        found = ruleset.evaluate(
            activity, today=TODAY, locate=lambda e: Location(line=e.sourceline, path=e.tag)
        )
        return [(f.rule, f.location, f.message) for f in found]

    assert any(run(unshared, a) for a in activities)
    for activity in activities:
        assert run(standard_ruleset(), activity) == run(unshared, activity)
