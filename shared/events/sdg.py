"""Events the sdg-tagger publishes."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared._event_model import Event
from shared.events.topics import SDG_TAGS


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
    decision: Literal["assigned", "rejected", "curated"]
    evidence: TagEvidence = Field(default_factory=TagEvidence)


class TargetTag(_Part):
    target: str
    score: float
    decision: Literal["assigned", "rejected", "curated"]
    evidence: TagEvidence = Field(default_factory=TagEvidence)


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
