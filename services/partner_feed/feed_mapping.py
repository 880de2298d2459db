"""From a registry activity (as the event stream carries it) to a :class:`FeedActivity`.

What goes out: identity, titles, descriptions, status, dates, beneficiary countries
(percentages split evenly to sum to 100), regional communities, SDG goals and targets
(curated from the activity plus computed by the tagger), the gender marker, partners and
DA recommendations. What never goes out: monitoring feedback, requesters, the API key names
that made changes, withdrawal reasons — nothing personal.

Withdrawn activities are published (in incremental feeds only) with IATI status 5.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.partner_feed.formats import FeedActivity, FeedCountry, FeedOrg, FeedParticipant
from shared.domain import Activity, Partner, Status

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
    return FeedParticipant(
        role=ROLE_CODES[partner.role],  # type: ignore[arg-type]
        ref=partner.ref,
        type=ORG_TYPES[partner.kind],
        name={"en": partner.name},
    )


def goals_of(activity: Activity, computed: tuple[int, ...]) -> list[int]:
    return sorted(set(activity.sdg.goals) | set(computed))


def to_feed_activity(
    activity: Activity,
    publisher: Publisher,
    *,
    computed_goals: tuple[int, ...] = (),
    computed_targets: tuple[str, ...] = (),
) -> FeedActivity | None:
    """The published form, or None when the activity cannot be published (no start date:
    IATI needs one and we do not invent it)."""
    dates = activity.dates
    if dates.planned_start is None and dates.actual_start is None:
        return None
    targets = sorted(
        set(activity.sdg.targets) | set(computed_targets),
        key=lambda t: (int(t.split(".")[0]), t),
    )
    goals = sorted(
        set(goals_of(activity, computed_goals)) | {int(t.split(".")[0]) for t in targets}
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
        planned_start=dates.planned_start,
        actual_start=dates.actual_start,
        planned_end=dates.planned_end,
        actual_end=dates.actual_end,
        recipient_countries=tuple(FeedCountry(code=c) for c in activity.countries()),
        regional_communities=tuple(activity.regional_communities),
        sdg_goals=tuple(str(g) for g in goals),
        sdg_targets=tuple(targets),
        gender_marker=activity.gender_marker,
        participating_orgs=(accountable, *(_participant(p) for p in activity.partners)),
        da_recommendations=tuple(activity.da_recommendations),
        last_updated=activity.updated_at,
        default_language=lang,
    )
