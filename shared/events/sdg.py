"""Events the sdg-tagger publishes."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared._event_model import Event
from shared.events.topics import SDG_TAGS

Decision = Literal["assigned", "rejected", "curated"]

#: The decisions under which a tag counts: the tagger assigned it or a curator set it.
#: Every reader (feeds, filters, webhooks, the API's view) asks `is_kept`, never the
#: decision strings.
KEPT_DECISIONS: frozenset[str] = frozenset({"assigned", "curated"})


def is_kept(decision: str) -> bool:
    """Whether a tag with this decision counts as the activity having the goal or target."""
    return decision in KEPT_DECISIONS


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class ClosestTarget(_Part):
    target: str
    text: str
    similarity: float


class TagEvidence(_Part):
    matched_terms: list[str] = Field(default_factory=list)
    closest_target: ClosestTarget | None = None
    rules: list[str] = Field(default_factory=list)


class GoalTag(_Part):
    goal: int = Field(ge=1, le=17)
    score: float
    decision: Decision
    evidence: TagEvidence = Field(default_factory=TagEvidence)

    @property
    def kept(self) -> bool:
        return is_kept(self.decision)


class TargetTag(_Part):
    target: str
    score: float
    decision: Decision
    evidence: TagEvidence = Field(default_factory=TagEvidence)

    @property
    def kept(self) -> bool:
        return is_kept(self.decision)


class SdgTagsAssigned(Event):
    """The SDG goals and targets computed for one version of an activity."""

    TYPE: ClassVar[str] = "org.wipo.tabridge.sdg.tags.assigned"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str] = SDG_TAGS

    activity_id: str
    activity_version: int = Field(ge=1)
    model_id: str
    outcome: str = Field(description="tagged, empty, truncated or unsupported_language")
    language: str | None = None
    goals: list[GoalTag] = Field(default_factory=list)
    targets: list[TargetTag] = Field(default_factory=list)

    def key(self) -> str:
        return self.activity_id

    def kept_goals(self) -> tuple[GoalTag, ...]:
        """The goal tags that count (assigned or curated), in event order."""
        return tuple(g for g in self.goals if g.kept)

    def kept_targets(self) -> tuple[TargetTag, ...]:
        """The target tags that count (assigned or curated), in event order."""
        return tuple(t for t in self.targets if t.kept)

    def kept_goal_numbers(self) -> frozenset[int]:
        """The numbers of the goals that count."""
        return frozenset(g.goal for g in self.goals if g.kept)
