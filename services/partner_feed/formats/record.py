"""The normalised record every inbound format produces: :class:`PartnerRecord`."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any, Literal, Self

import orjson
from pydantic import BaseModel, ConfigDict, computed_field, model_validator

Text = dict[str, str]
"""Text per language: ISO 639-1 code (lower case) → text."""


class SourceFormat(StrEnum):
    IATI_XML = "iati-xml"
    TFM_JSON = "tfm-json"
    TFM_CSV = "tfm-csv"
    REGIONAL_JSON = "regional-json"
    REGIONAL_CSV = "regional-csv"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OtherIdentifier(_Frozen):
    ref: str
    type: str | None = None
    owner_ref: str | None = None


class RelatedActivity(_Frozen):
    ref: str
    type: str | None = None


class Identifiers(_Frozen):
    iati_identifier: str | None = None
    other: tuple[OtherIdentifier, ...] = ()
    related_activities: tuple[RelatedActivity, ...] = ()
    participating_activity_ids: tuple[str, ...] = ()


class CountryShare(_Frozen):
    code: str
    percentage: Decimal | None = None


class RegionShare(_Frozen):
    code: str
    vocabulary: str = "1"
    percentage: Decimal | None = None


class Sector(_Frozen):
    code: str
    vocabulary: str = "1"
    percentage: Decimal | None = None


class Participant(_Frozen):
    role: str
    """IATI OrganisationRole code: 1 funding, 2 accountable, 3 extending, 4 implementing."""
    ref: str | None = None
    type: str | None = None
    name: Text = {}
    activity_id: str | None = None


class Tag(_Frozen):
    code: str
    vocabulary: str
    vocabulary_uri: str | None = None
    text: Text = {}


GoalVia = Literal["tag-2", "tag-3", "sector-7", "sector-8", "sector-9", "goal", "target"]
"""Where a goal came from: an IATI tag (vocabulary 2 goal, 3 target) or sector (vocabulary 7
goal, 8 target, 9 indicator), or, for other formats, a goal or target field."""
_GOAL_OF = re.compile(r"^(1[0-7]|[1-9])\.")


def goal_of(code: str) -> str | None:
    """The SDG goal an SDG target (``1.a``) or indicator (``1.a.1``) belongs to."""
    match = _GOAL_OF.match(code)
    return match.group(1) if match else None


class GoalSource(_Frozen):
    goal: str
    via: GoalVia
    code: str
    """The publisher's code it came from (the goal itself, or the target / indicator)."""


class PartnerRecord(_Frozen):
    """One partner activity, whatever format it came in.

    ``content_hash`` is a SHA-256 over the canonical JSON of every field except
    ``last_updated`` and ``source_format``: re-publishing an unchanged activity (or the same
    activity in another format) keeps the hash, any change of content moves it.
    """

    partner_id: str
    record_id: str
    """The id of the record in the partner's system (IATI identifier, TFM record id, ...)."""
    source_format: SourceFormat
    identifiers: Identifiers = Identifiers()
    reporting_org_ref: str | None = None
    titles: Text = {}
    descriptions: Text = {}
    status: str | None = None
    """IATI ActivityStatus code."""
    planned_start: date | None = None
    actual_start: date | None = None
    planned_end: date | None = None
    actual_end: date | None = None
    recipient_countries: tuple[CountryShare, ...] = ()
    recipient_regions: tuple[RegionShare, ...] = ()
    sectors: tuple[Sector, ...] = ()
    sdg_goals: tuple[str, ...] = ()
    """Goals stated and goals implied by the targets and indicators (see ``goal_sources``)."""
    sdg_targets: tuple[str, ...] = ()
    goal_sources: tuple[GoalSource, ...] = ()
    """Where each goal came from; derived, so not part of ``content_hash``."""
    participating_orgs: tuple[Participant, ...] = ()
    gender_marker: int | None = None
    """Significance of the gender-equality policy marker (0 not targeted … 2 principal)."""
    regional_communities: tuple[str, ...] = ()
    da_recommendations: tuple[int, ...] = ()
    tags: tuple[Tag, ...] = ()
    """Tags not already mapped to SDG, regional-community or DA fields."""
    last_updated: datetime | None = None

    @model_validator(mode="after")
    def _implied_goals(self) -> PartnerRecord:
        """Goals implied by the targets join the goals, each with where it came from."""
        sources = list(self.goal_sources)
        known = {s.goal for s in sources}
        sources += [
            GoalSource(goal=g, via="goal", code=g) for g in self.sdg_goals if g not in known
        ]
        for target in self.sdg_targets:
            goal = goal_of(target)
            if goal is not None and not any(s.code == target for s in sources):
                sources.append(GoalSource(goal=goal, via="target", code=target))
        goals = tuple(dict.fromkeys((*self.sdg_goals, *(s.goal for s in sources))))
        object.__setattr__(self, "sdg_goals", goals)
        object.__setattr__(self, "goal_sources", tuple(sources))
        return self

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def content_hash(self) -> str:
        # Cached: change detection, staging, events and reports all ask for it, and the
        # record is frozen; `model_copy` drops the cached value (an update may change it).
        body = self.model_dump(
            mode="json",
            exclude={"content_hash", "last_updated", "source_format", "goal_sources"},
        )
        return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        copied = super().model_copy(update=update, deep=deep)
        copied.__dict__.pop("content_hash", None)
        return copied
