"""From a registry activity (as the event stream carries it) to a :class:`FeedActivity`.

What goes out: identity, titles, descriptions, status, dates, beneficiary countries
(percentages split evenly to sum to 100; region 998 when there is none), sectors (the TA
category as DAC purpose codes and as itself, :data:`DAC_SECTORS`), regional communities,
SDG goals and targets (curated from the activity plus computed by the tagger), the gender
marker, partners (the ref only when it is an organisation identifier) and DA
recommendations. What never goes out: monitoring feedback, requesters, the API key names
that made changes, withdrawal reasons — nothing personal.

Withdrawn activities are published (in incremental feeds only) with IATI status 5.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from services.partner_feed.formats import (
    FeedActivity,
    FeedCountry,
    FeedOrg,
    FeedParticipant,
    FeedRegion,
    FeedSector,
)
from services.partner_feed.formats import vocabularies as voc
from shared.domain import Activity, Category, Partner, Status

STATUS_CODES: dict[Status, str] = {
    Status.PIPELINE: "1",
    Status.IMPLEMENTATION: "2",
    Status.FINALISATION: "3",
    Status.CLOSED: "4",
    Status.CANCELLED: "5",
    Status.SUSPENDED: "6",
    Status.WITHDRAWN: "5",
}
ROLE_CODES = {
    "funding": "1",
    "accountable": "2",
    "extending": "3",
    "implementing": "4",
    "cooperating": "4",
}
ORG_TYPES = {
    "un_entity": "40",
    "igo": "40",
    "ip_office": "10",
    "government": "10",
    "ngo": "21",
    "private_sector": "70",
    "academia": "80",
    "other": "90",
}
WIPO_ORG_TYPE = "40"

DAC_SECTORS: dict[Category, tuple[tuple[str, int], ...]] = {
    Category.NATIONAL_IP_STRATEGY: (("25010", 100),),
    Category.INFRASTRUCTURE: (("15110", 100),),
    Category.CAPACITY_BUILDING: (("11430", 100),),
    Category.LEGISLATIVE_ASSISTANCE: (("15130", 100),),
    Category.DA_PROJECT: (("25010", 50), ("32182", 50)),
    Category.PUBLIC_PRIVATE_PARTNERSHIP: (("32182", 100),),
}
"""WIPO TA category (CDIP/22) → OECD DAC 5-digit purpose codes (sector vocabulary 1), with
percentages summing to 100:

* national IP strategy → 25010 Business policy and administration (the business
  environment, "including property rights");
* infrastructure (IP office automation, databases, TISCs) → 15110 Public sector policy
  and administrative management (institution-building of public administrations);
* capacity building (WIPO Academy, professional training) → 11430 Advanced technical and
  managerial training;
* legislative assistance → 15130 Legal and judicial development ("legal drafting");
* Development Agenda projects → 25010 (IP policy) 50 % and 32182 Technological research and
  development 50 % (technology transfer, the DA's clusters B and C);
* public-private partnerships (WIPO GREEN, Re:Search) → 32182 (technology transfer).

The category itself also goes out under sector vocabulary 99 (:data:`TA_CATEGORY_URI`)."""
CATEGORY_NAMES: dict[Category, str] = {
    Category.NATIONAL_IP_STRATEGY: "National IP strategy",
    Category.INFRASTRUCTURE: "IP infrastructure",
    Category.CAPACITY_BUILDING: "Capacity building",
    Category.LEGISLATIVE_ASSISTANCE: "Legislative assistance",
    Category.DA_PROJECT: "Development Agenda project",
    Category.PUBLIC_PRIVATE_PARTNERSHIP: "Public-private partnership",
}


@dataclass(frozen=True, slots=True)
class Publisher:
    """Who the feed is published as: the IATI reporting organisation."""

    ref: str
    name: str

    def org(self) -> FeedOrg:
        return FeedOrg(ref=self.ref, type=WIPO_ORG_TYPE, name={"en": self.name})


def identifier_of(activity: Activity, publisher: Publisher) -> str:
    if activity.iati_identifier.startswith(publisher.ref + "-"):
        return activity.iati_identifier
    return f"{publisher.ref}-{activity.id}"


def _participant(partner: Partner) -> FeedParticipant:
    """The partner as a participating-org: its ref only when it is an organisation
    identifier (``WHO`` is a name, and the narrative already carries the name)."""
    return FeedParticipant(
        role=ROLE_CODES[partner.role],  # type: ignore[arg-type]
        ref=partner.ref if voc.is_org_identifier(partner.ref) else None,
        type=ORG_TYPES[partner.kind],
        name={"en": partner.name},
    )


def sectors_of(category: Category) -> tuple[FeedSector, ...]:
    """The DAC purpose codes for a TA category, then the category itself (vocabulary 99)."""
    dac = tuple(
        FeedSector(code=code, vocabulary="1", percentage=Decimal(share))
        for code, share in DAC_SECTORS[category]
    )
    own = FeedSector(
        code=category.value,
        vocabulary=voc.SECTOR_REPORTING_ORG,
        vocabulary_uri=voc.TA_CATEGORY_URI,
        percentage=Decimal(100),
        name={"en": CATEGORY_NAMES[category]},
    )
    return (*dac, own)


def _dates(activity: Activity, today: date | None) -> dict[str, date | None]:
    """The activity's dates as published: an actual date after ``today`` is not actual yet
    (rules 11.1.4/11.1.5), so it goes out as planned, or not at all."""
    d = activity.dates
    dates = {
        "planned_start": d.planned_start,
        "actual_start": d.actual_start,
        "planned_end": d.planned_end,
        "actual_end": d.actual_end,
    }
    if today is None:
        return dates
    if d.actual_start is not None and d.actual_start > today:
        dates["planned_start"] = d.planned_start or d.actual_start
        dates["actual_start"] = dates["actual_end"] = None
    if dates["actual_end"] is not None and d.actual_end is not None and d.actual_end > today:
        dates["planned_end"] = d.planned_end or d.actual_end
        dates["actual_end"] = None
    return dates


def goals_of(
    activity: Activity, computed: tuple[int, ...], computed_targets: tuple[str, ...] = ()
) -> list[int]:
    """Curated and computed goals, and the goals the computed targets imply: what the feed
    publishes, so what ``?sdg=`` finds."""
    implied = {int(t.split(".")[0]) for t in computed_targets if t.split(".")[0].isdigit()}
    return sorted(set(activity.sdg.goals) | set(computed) | implied)


def to_feed_activity(
    activity: Activity,
    publisher: Publisher,
    *,
    computed_goals: tuple[int, ...] = (),
    computed_targets: tuple[str, ...] = (),
    today: date | None = None,
) -> FeedActivity | None:
    """The published form, or None when the activity cannot be published (no start date:
    IATI needs one and we do not invent it).

    ``today`` (the feed's generation date) keeps actual dates from being in the future."""
    dates = _dates(activity, today)
    if dates["planned_start"] is None and dates["actual_start"] is None:
        return None
    targets = sorted(
        set(activity.sdg.targets) | set(computed_targets),
        key=lambda t: (int(t.split(".")[0]), t),
    )
    goals = sorted(
        set(goals_of(activity, computed_goals, computed_targets))
        | {int(t.split(".")[0]) for t in targets}
    )
    accountable = FeedParticipant(
        role="2", ref=publisher.ref, type=WIPO_ORG_TYPE, name={"en": publisher.name}
    )
    lang = "en" if "en" in activity.title else next(iter(activity.title))
    return FeedActivity(
        identifier=identifier_of(activity, publisher),
        reporting_org=publisher.org(),
        titles={str(k): v for k, v in activity.title.items()},
        descriptions={str(k): v for k, v in (activity.description or activity.title).items()},
        status=STATUS_CODES[activity.status],  # type: ignore[arg-type]
        **dates,
        recipient_countries=tuple(FeedCountry(code=c) for c in activity.countries()),
        recipient_regions=()
        if activity.countries()
        else (FeedRegion(code=voc.REGION_UNSPECIFIED),),
        sectors=sectors_of(activity.category),
        regional_communities=tuple(activity.regional_communities),
        sdg_goals=tuple(str(g) for g in goals),
        sdg_targets=tuple(targets),
        gender_marker=activity.gender_marker,
        participating_orgs=(accountable, *(_participant(p) for p in activity.partners)),
        da_recommendations=tuple(activity.da_recommendations),
        last_updated=activity.updated_at,
        default_language=lang,
    )
