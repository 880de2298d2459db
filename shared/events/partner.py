"""Events partner-feed publishes about partner records and their links to activities."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared._event_model import Event
from shared.events.topics import PARTNER_LINKS, PARTNER_RECORDS


class RecordFinding(BaseModel):
    """One validation finding on an accepted record (IATI Validator terms)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    code: str
    severity: Literal["critical", "error", "warning"]
    category: str
    message: str
    rule: str | None = Field(
        default=None, description="The IATI Validator's rule id (e.g. Standard Ruleset 1.1.21)."
    )
    line: int | None = None
    path: str | None = None


class _PartnerRecordEvent(Event):
    TOPIC: ClassVar[str] = PARTNER_RECORDS

    partner: str
    record_id: str = Field(description="The partner's own record id (e.g. IATI identifier).")
    import_id: str
    content_hash: str | None = None

    def key(self) -> str:
        return f"{self.partner}:{self.record_id}"


class PartnerRecordNew(_PartnerRecordEvent):
    TYPE: ClassVar[str] = "org.wipo.tabridge.partner.record.new"
    VERSION: ClassVar[int] = 1

    record: dict[str, Any]
    findings: list[RecordFinding] = Field(
        default_factory=list,
        description="What validation found on the record as accepted; empty when clean.",
    )


class PartnerRecordChanged(_PartnerRecordEvent):
    TYPE: ClassVar[str] = "org.wipo.tabridge.partner.record.changed"
    VERSION: ClassVar[int] = 1

    record: dict[str, Any]
    changed_fields: list[str] = Field(default_factory=list)
    findings: list[RecordFinding] = Field(
        default_factory=list,
        description="What validation found on the record as accepted; empty when clean.",
    )


class PartnerRecordRemoved(_PartnerRecordEvent):
    TYPE: ClassVar[str] = "org.wipo.tabridge.partner.record.removed"
    VERSION: ClassVar[int] = 1


class PartnerRecordLinked(Event):
    """A partner record was matched to a registry activity."""

    TYPE: ClassVar[str] = "org.wipo.tabridge.partner.record.linked"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str] = PARTNER_LINKS

    partner: str
    record_id: str
    activity_id: str
    confidence: float = Field(ge=0, le=1)
    method: Literal["identifier", "scored"]
    evidence: list[str] = Field(default_factory=list)

    def key(self) -> str:
        return f"{self.partner}:{self.record_id}"
