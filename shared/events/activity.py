"""Events the registry publishes about TA activities."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from shared._event_model import Event
from shared.domain.activity import Activity
from shared.events.topics import ACTIVITY_EVENTS, ACTIVITY_SNAPSHOTS


class _ActivityChange(Event):
    TOPIC: ClassVar[str] = ACTIVITY_EVENTS

    activity_id: str
    version: int = Field(ge=1, description="The activity's version after this change.")
    actor: str = Field(description="The API key name (or system) that made the change.")
    changed_fields: list[str] = Field(
        default_factory=list, description="Top-level fields that differ from the previous version."
    )
    state: Activity = Field(description="The whole activity after the change.")

    def key(self) -> str:
        return self.activity_id


class ActivityRegistered(_ActivityChange):
    """A new activity was recorded."""

    TYPE: ClassVar[str] = "org.wipo.tabridge.activity.registered"
    VERSION: ClassVar[int] = 1


class ActivityUpdated(_ActivityChange):
    """An activity changed (replace or partial update)."""

    TYPE: ClassVar[str] = "org.wipo.tabridge.activity.updated"
    VERSION: ClassVar[int] = 1


class ActivityWithdrawn(_ActivityChange):
    """An activity was withdrawn; its id is never reused."""

    TYPE: ClassVar[str] = "org.wipo.tabridge.activity.withdrawn"
    VERSION: ClassVar[int] = 1

    reason: str


class ActivitySnapshot(Event):
    """The latest state of one activity, on the compacted snapshot topic."""

    TYPE: ClassVar[str] = "org.wipo.tabridge.activity.snapshot"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str] = ACTIVITY_SNAPSHOTS

    activity_id: str
    version: int = Field(ge=1)
    lifecycle: Literal["active", "withdrawn"]
    state: Activity

    def key(self) -> str:
        return self.activity_id
