"""A WIPO technical-assistance activity, as the registry records it and events carry it.

The vocabulary follows CDIP/22 (categories, TA-cycle stages) and maps onto IATI 2.03
(status, dates, participating-org roles, SDG tag vocabularies 2 and 3, gender policy
marker) so that the feeds can render it without guessing.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from shared.domain.codelists import DevelopmentStatus
from shared.domain.xml_text import XmlSafe

Language = Literal["ar", "zh", "en", "fr", "ru", "es"]
UN_LANGUAGES: tuple[Language, ...] = ("ar", "zh", "en", "fr", "ru", "es")

ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), XmlSafe
]
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000), XmlSafe
]

_TARGET_RE = re.compile(r"^(?P<goal>[1-9]|1[0-7])\.(?:[1-9][0-9]?|[a-g])$")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Category(StrEnum):
    NATIONAL_IP_STRATEGY = "national_ip_strategy"
    INFRASTRUCTURE = "infrastructure"
    CAPACITY_BUILDING = "capacity_building"
    LEGISLATIVE_ASSISTANCE = "legislative_assistance"
    DA_PROJECT = "da_project"
    PUBLIC_PRIVATE_PARTNERSHIP = "public_private_partnership"


class Stage(StrEnum):
    NEEDS_ASSESSMENT = "needs_assessment"
    PLANNING_AND_DESIGN = "planning_and_design"
    IMPLEMENTATION = "implementation"
    MONITORING_AND_EVALUATION = "monitoring_and_evaluation"


class Status(StrEnum):
    """Mirrors IATI ActivityStatus: 1 pipeline, 2 implementation, 3 finalisation, 4 closed,
    5 cancelled, 6 suspended; `withdrawn` is the registry's own end state."""

    PIPELINE = "pipeline"
    IMPLEMENTATION = "implementation"
    FINALISATION = "finalisation"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"


class Modality(StrEnum):
    BILATERAL = "bilateral"
    MULTILATERAL = "multilateral"
    REGIONAL = "regional"
    INTERREGIONAL = "interregional"


class Beneficiary(_Model):
    """A beneficiary country. Its status is checked (or filled in) against the code list by
    `shared.domain.rules` when a change is written, not when a stored record is read."""

    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    status: DevelopmentStatus | None = None


class LeadUnit(_Model):
    kind: Literal["programme", "sector", "division", "regional_bureau", "external_office"]
    name: ShortText
    code: ShortText | None = None


class Partner(_Model):
    name: ShortText
    kind: Literal[
        "un_entity", "igo", "ip_office", "government", "ngo", "private_sector", "academia", "other"
    ]
    role: Literal["funding", "accountable", "extending", "implementing", "cooperating"]
    ref: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._/-]{2,100}$")] | None = None


class Dates(_Model):
    planned_start: date | None = None
    planned_end: date | None = None
    actual_start: date | None = None
    actual_end: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        for start, end in (("planned_start", "planned_end"), ("actual_start", "actual_end")):
            first, last = getattr(self, start), getattr(self, end)
            if first is not None and last is not None and last < first:
                raise ValueError(f"{end} ({last}) is before {start} ({first})")
        if self.actual_end is not None and self.actual_start is None:
            raise ValueError("actual_end is set but actual_start is not")
        return self


class SdgTags(_Model):
    goals: list[Annotated[int, Field(ge=1, le=17)]] = Field(default_factory=list, max_length=17)
    targets: list[str] = Field(default_factory=list, max_length=10)

    @field_validator("targets")
    @classmethod
    def _targets(cls, targets: list[str]) -> list[str]:
        for target in targets:
            if not _TARGET_RE.match(target):
                raise ValueError(f"{target!r} is not an SDG target like '9.5' or '17.b'")
        return sorted(set(targets), key=_target_sort_key)

    @model_validator(mode="after")
    def _goals_cover_targets(self) -> Self:
        goals = set(self.goals) | {int(t.split(".")[0]) for t in self.targets}
        object.__setattr__(self, "goals", sorted(goals))
        return self


def _target_sort_key(target: str) -> tuple[int, int, str]:
    goal, _, rest = target.partition(".")
    return (int(goal), int(rest) if rest.isdigit() else 100, rest)


class Indicator(_Model):
    name: ShortText
    unit: ShortText | None = None
    baseline: float | None = None
    target: float | None = None
    actual: float | None = None


class Evaluation(_Model):
    date: date
    kind: Literal["self", "independent", "impact"] = "self"
    summary: LongText
    url: (
        Annotated[str, StringConstraints(pattern=r"^https?://", max_length=2000), XmlSafe] | None
    ) = None


class Feedback(_Model):
    date: date
    requester: ShortText
    text: LongText
    rating: Annotated[int, Field(ge=1, le=5)] | None = None


class Monitoring(_Model):
    expected_results: list[ShortText] = Field(default_factory=list, max_length=50)
    indicators: list[Indicator] = Field(default_factory=list, max_length=50)
    evaluations: list[Evaluation] = Field(default_factory=list, max_length=50)
    feedback: list[Feedback] = Field(default_factory=list, max_length=200)


class PartnerRef(_Model):
    partner: ShortText
    id: ShortText


class ExternalRefs(_Model):
    iati_identifiers: list[
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9].{2,199}$"), XmlSafe]
    ] = Field(default_factory=list, max_length=20)
    partner_ids: list[PartnerRef] = Field(default_factory=list, max_length=50)


def _check_languages(text: dict[str, str], field: str) -> dict[str, str]:
    if not text:
        raise ValueError(f"{field} needs at least one of the UN languages {UN_LANGUAGES}")
    return text


class ActivityFields(_Model):
    """What a client writes: everything but the registry's own bookkeeping."""

    title: dict[Language, ShortText]
    description: dict[Language, LongText] = Field(default_factory=dict)
    category: Category
    stage: Stage = Stage.NEEDS_ASSESSMENT
    status: Status = Status.PIPELINE
    beneficiaries: list[Beneficiary] = Field(default_factory=list, max_length=200)
    regional_communities: list[Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,8}$")]] = Field(
        default_factory=list, max_length=16
    )
    lead_unit: LeadUnit
    partners: list[Partner] = Field(default_factory=list, max_length=100)
    modality: Modality = Modality.BILATERAL
    dates: Dates = Field(default_factory=Dates)
    da_recommendations: list[Annotated[int, Field(ge=1, le=45)]] = Field(
        default_factory=list, max_length=45
    )
    gender_marker: Annotated[int, Field(ge=0, le=2)] | None = Field(
        default=None,
        description="OECD DAC gender equality marker: 0 not targeted, 1 significant, 2 principal",
    )
    sdg: SdgTags = Field(default_factory=SdgTags)
    monitoring: Monitoring = Field(default_factory=Monitoring)
    external_refs: ExternalRefs = Field(default_factory=ExternalRefs)

    @field_validator("title")
    @classmethod
    def _title(cls, title: dict[str, str]) -> dict[str, str]:
        return _check_languages(title, "title")

    @field_validator("regional_communities")
    @classmethod
    def _communities(cls, codes: list[str]) -> list[str]:
        return sorted(set(codes))

    @field_validator("beneficiaries")
    @classmethod
    def _unique_beneficiaries(cls, items: list[Beneficiary]) -> list[Beneficiary]:
        seen: set[str] = set()
        for item in items:
            if item.country in seen:
                raise ValueError(f"{item.country} is listed twice")
            seen.add(item.country)
        return items

    @field_validator("da_recommendations")
    @classmethod
    def _da(cls, recommendations: list[int]) -> list[int]:
        return sorted(set(recommendations))

    def countries(self) -> list[str]:
        return [b.country for b in self.beneficiaries]


class Activity(ActivityFields):
    """The registry's record: the fields plus identity, version and bookkeeping."""

    id: Annotated[str, StringConstraints(pattern=r"^TA-[0-9]{4}-[0-9]{6}$")]
    version: Annotated[int, Field(ge=1)]
    iati_identifier: Annotated[str, XmlSafe]
    created_at: datetime
    updated_at: datetime
    created_by: Annotated[str, XmlSafe]
    updated_by: Annotated[str, XmlSafe]
    withdrawn_reason: Annotated[str, XmlSafe] | None = None

    def fields(self) -> ActivityFields:
        data = self.model_dump(include=set(ActivityFields.model_fields))
        return ActivityFields.model_validate(data)
