"""Builders shared by the partner-feed format tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.partner_feed.formats import (
    FeedActivity,
    FeedCountry,
    FeedOrg,
    FeedParticipant,
    FeedSector,
)


@pytest.fixture
def activity() -> FeedActivity:
    return FeedActivity(
        identifier="XM-DAC-41140-TA-2024-0001",
        reporting_org=FeedOrg(
            ref="XM-DAC-41140",
            type="40",
            name={"en": "World Intellectual Property Organization"},
        ),
        titles={"en": "National IP strategy for Rwanda", "fr": "Stratégie nationale de PI"},
        descriptions={"en": "Support to design a national IP strategy (LDC)."},
        status="2",
        planned_start=date(2024, 1, 15),
        actual_start=date(2024, 2, 1),
        planned_end=date(2025, 12, 31),
        recipient_countries=(
            FeedCountry(code="RW"),
            FeedCountry(code="KE"),
            FeedCountry(code="UG"),
            FeedCountry(code="TZ"),
            FeedCountry(code="BI"),
            FeedCountry(code="SS"),
            FeedCountry(code="CD"),
        ),
        regional_communities=("EAC",),
        sdg_goals=("9", "17"),
        sdg_targets=("9.5", "17.6"),
        gender_marker=1,
        participating_orgs=(
            FeedParticipant(role="2", ref="XM-DAC-41140", type="40", name={"en": "WIPO"}),
            FeedParticipant(role="4", name={"en": "Rwanda Development Board"}, type="10"),
        ),
        da_recommendations=(1, 10, 12),
        sectors=(FeedSector(code="25010", percentage=Decimal(100)),),
        last_updated=datetime(2025, 5, 1, 12, 0, tzinfo=UTC),
    )
