"""From a read record and its findings to a verdict: accepted or quarantined."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pydantic import BaseModel, ConfigDict

from services.partner_feed.formats.errors import Location
from services.partner_feed.formats.record import PartnerRecord
from services.partner_feed.validation.codelists import check_codelists
from services.partner_feed.validation.findings import Finding, Locations, blocking
from services.partner_feed.validation.rules import check_rules


@dataclass(frozen=True)
class Candidate:
    """What a reader hands over for one input record.

    ``record`` is None when the input could not be mapped at all (its ``findings`` say why).
    """

    ref: str
    """Identifier when known, else the record's path or row: how to name it to the partner."""
    location: Location
    record: PartnerRecord | None
    locations: Locations = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()


class RecordOutcome(BaseModel):
    """The verdict on one record: accepted (warnings at most) or quarantined with reasons."""

    model_config = ConfigDict(frozen=True)

    ref: str
    location: Location
    accepted: bool
    record: PartnerRecord | None
    findings: tuple[Finding, ...]


def judge(candidate: Candidate, *, today: date) -> RecordOutcome:
    """Run codelist and rule checks on a candidate and decide. Never raises on content."""
    findings = list(candidate.findings)
    record = candidate.record
    if record is not None:
        findings += check_codelists(record, candidate.locations)
        findings += check_rules(record, candidate.locations, today=today)
    return RecordOutcome(
        ref=candidate.ref,
        location=candidate.location,
        accepted=record is not None and not blocking(findings),
        record=record,
        findings=tuple(findings),
    )
