"""FeedActivity → IATI 2.03 XML → schema-valid → parsed back equal on every mapped field."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from lxml import etree
from pydantic import ValidationError

from services.partner_feed.formats import (
    FeedActivity,
    FeedCountry,
    SourceFormat,
    ingest,
    write_iati,
)
from services.partner_feed.validation.schema import activity_schema

TODAY = date(2025, 6, 30)
GENERATED = datetime(2025, 6, 30, 8, 0, tzinfo=UTC)


def _xml(*activities: FeedActivity) -> bytes:
    return b"".join(write_iati(activities, generated=GENERATED))


def test_output_validates_against_the_203_schema(activity: FeedActivity) -> None:
    doc = etree.fromstring(_xml(activity, activity.model_copy(update={"gender_marker": None})))
    schema = activity_schema()
    assert schema.validate(doc), schema.error_log
    assert doc.find(".//contact-info") is None


def test_writer_streams_one_chunk_per_activity(activity: FeedActivity) -> None:
    chunks = list(write_iati(iter([activity, activity]), generated=GENERATED))
    assert len(chunks) == 4
    assert chunks[0].startswith(b"<?xml")


def test_round_trip_is_equal_on_every_mapped_field(activity: FeedActivity) -> None:
    run = ingest(
        _xml(activity), source_format=SourceFormat.IATI_XML, partner_id="wipo", today=TODAY
    )
    [outcome] = list(run)
    assert outcome.accepted and outcome.findings == ()
    record = outcome.record
    assert record is not None
    assert record.record_id == record.identifiers.iati_identifier == activity.identifier
    assert record.reporting_org_ref == activity.reporting_org.ref
    assert record.titles == activity.titles
    assert record.descriptions == activity.descriptions
    assert record.status == activity.status
    assert (record.planned_start, record.actual_start, record.planned_end, record.actual_end) == (
        activity.planned_start,
        activity.actual_start,
        activity.planned_end,
        activity.actual_end,
    )
    assert [(c.code, c.percentage) for c in record.recipient_countries] == list(
        activity.country_shares()
    )
    assert record.regional_communities == activity.regional_communities
    assert record.sdg_goals == activity.sdg_goals
    assert record.sdg_targets == activity.sdg_targets
    assert record.gender_marker == activity.gender_marker
    assert record.da_recommendations == activity.da_recommendations
    assert [(s.code, s.vocabulary, s.percentage) for s in record.sectors] == [
        (s.code, s.vocabulary, s.percentage) for s in activity.sectors
    ]
    assert [(p.role, p.ref, p.type, p.name, p.activity_id) for p in record.participating_orgs] == [
        (p.role, p.ref, p.type, p.name, p.activity_id) for p in activity.participating_orgs
    ]
    assert record.last_updated == activity.last_updated
    assert record.tags == ()


def test_even_split_fixes_the_remainder(activity: FeedActivity) -> None:
    shares = [p for _, p in activity.country_shares()]
    assert sum(shares) == 100
    assert shares == [Decimal("14.29")] * 4 + [Decimal("14.28")] * 3


def test_given_percentages_must_sum_to_100(activity: FeedActivity) -> None:
    countries = (
        FeedCountry(code="RW", percentage=Decimal(60)),
        FeedCountry(code="KE", percentage=Decimal(30)),
    )
    with pytest.raises(ValidationError, match="sum to 100"):
        FeedActivity.model_validate({**activity.model_dump(), "recipient_countries": countries})


def test_content_hash_ignores_last_updated_but_not_content(activity: FeedActivity) -> None:
    def record_of(a: FeedActivity) -> str:
        [o] = list(
            ingest(_xml(a), source_format=SourceFormat.IATI_XML, partner_id="w", today=TODAY)
        )
        assert o.record is not None
        return o.record.content_hash

    base = record_of(activity)
    assert record_of(activity.model_copy(update={"last_updated": GENERATED})) == base
    assert record_of(activity.model_copy(update={"status": "3"})) != base
