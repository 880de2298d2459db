"""Pure rules of the partner-feed service: matching, discrepancies, changes, queries."""

from __future__ import annotations

from datetime import date

import pytest

from services.partner_feed.changes import classify, staged
from services.partner_feed.discrepancies import discrepancies
from services.partner_feed.feed_mapping import Publisher, to_feed_activity
from services.partner_feed.feed_query import FeedQuery, etag_matches
from services.partner_feed.formats import PartnerRecord, SourceFormat
from services.partner_feed.partners import hash_key, parse_partners
from services.partner_feed.reconciliation import Matcher
from shared import InvalidInput
from shared.domain import load_codelists
from tests.unit.partner_feed.harness import make_activity


def record(record_id: str = "XM-1", **fields: object) -> PartnerRecord:
    return PartnerRecord.model_validate(
        {
            "partner_id": "p",
            "record_id": record_id,
            "source_format": SourceFormat.IATI_XML,
            **fields,
        }
    )


KENYA = make_activity(1)
SENEGAL = make_activity(
    2, title={"en": "WIPO GREEN matchmaking"}, beneficiaries=[{"country": "SN"}]
)


def test_explicit_identifiers_link_with_confidence_one() -> None:
    matcher = Matcher([KENYA, SENEGAL], threshold=0.7)
    for ids in (
        {"participating_activity_ids": ["TA-2026-000002"]},
        {"related_activities": [{"ref": "XI-IATI-WIPO-TA-2026-000002"}]},
        {"other": [{"ref": "wipo:TA-2026-000002"}]},
    ):
        match = matcher.match(record(identifiers=ids))
        assert match is not None and match.activity.activity_id == SENEGAL.id
        assert (match.confidence, match.method) == (1.0, "identifier")


def test_scored_match_is_below_one_and_unrelated_records_do_not_match() -> None:
    matcher = Matcher([KENYA, SENEGAL], threshold=0.7)
    fuzzy = matcher.match(
        record(
            titles={"en": "National IP strategy (Kenya)"},
            recipient_countries=[{"code": "KE"}],
            planned_start=date(2026, 1, 10),
        )
    )
    assert fuzzy is not None and fuzzy.activity.activity_id == KENYA.id
    assert fuzzy.method == "scored" and 0.7 <= fuzzy.confidence <= 0.95
    assert matcher.match(record(titles={"en": "Malaria bed nets"})) is None
    assert Matcher([], threshold=0.7).match(record(titles={"en": "x"})) is None


def test_discrepancies_compare_only_what_both_sides_state() -> None:
    found = discrepancies(
        record(status="4", planned_start=date(2026, 2, 1), recipient_countries=[{"code": "UG"}]),
        KENYA,
    )
    assert {d["field"] for d in found} == {"status", "planned_start", "countries"}
    assert discrepancies(record(), KENYA) == []


def test_change_classification() -> None:
    new = record(titles={"en": "A"})
    assert classify(new, None) == "new"
    assert classify(new, new.content_hash) == "unchanged"
    assert staged(new, "unchanged").record is None  # nothing serialised for an unchanged one
    first = staged(new, "new")
    assert first.record == new.model_dump_json() and first.content_hash == new.content_hash
    moved = record(titles={"en": "B"})
    assert classify(moved, new.content_hash) == "changed"
    row = staged(moved, "changed", first.record)
    assert (row.kind, row.changed_fields) == ("changed", ("titles",))


def test_feed_query_filters_and_etag() -> None:
    lists = load_codelists()
    query = FeedQuery.parse({}, {"country": ["sn, ml"], "sdg": ["9"]})
    assert query.countries == {"SN", "ML"}
    assert query.matches(SENEGAL, (), lists) and not query.matches(KENYA, (), lists)
    assert FeedQuery.parse({}, {"community": ["EAC"]}).matches(
        make_activity(3, regional_communities=[]), (), lists
    )  # Kenya is an EAC member
    assert FeedQuery.parse({}, {"sdg": ["4"]}).matches(KENYA, (4,), lists)
    # A goal implied only by a computed target is published, so the goal filter finds it.
    assert FeedQuery.parse({}, {"sdg": ["5"]}).matches(KENYA, (), lists, ("5.c",))
    assert not FeedQuery.parse({}, {"sdg": ["5"]}).matches(KENYA, (), lists)
    with pytest.raises(InvalidInput) as caught:
        FeedQuery.parse({"since": "abc"}, {"category": ["nope"]})
    assert {f.pointer for f in caught.value.faults} == {"since", "category"}
    etag = query.etag("iati.xml", 7, "XI")
    assert etag != query.etag("iati.xml", 8, "XI")
    assert etag_matches(f'W/{etag}, "other"', etag) and not etag_matches(None, etag)


def test_activities_without_a_start_date_are_not_published() -> None:
    publisher = Publisher("XI-IATI-WIPO", "WIPO")
    assert to_feed_activity(make_activity(4, dates={}), publisher) is None
    published = to_feed_activity(KENYA, publisher, computed_goals=(4,), computed_targets=("5.5",))
    assert published is not None
    assert published.sdg_goals == ("4", "5", "9") and published.sdg_targets == ("5.5", "9.5")


def test_partner_configuration() -> None:
    partners = parse_partners(f'[{{"id": "eac", "api_key_sha256": ["{hash_key("k")}"]}}]')
    assert partners[0].accepts_key("k") and not partners[0].accepts_key("K")
    with pytest.raises(ValueError, match="unique"):
        parse_partners('[{"id": "a"}, {"id": "a"}]')
    with pytest.raises(ValueError, match="mapping"):
        parse_partners('[{"id": "a", "format": "regional-csv"}]')
