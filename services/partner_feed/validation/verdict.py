"""From a read record and its findings to a verdict: accepted or quarantined.

The default policy is the IATI Datastore's: quarantine only what cannot be used safely (no
usable identifier, input we cannot read or map; ``critical`` findings) and accept every
other record with its findings attached. A partner's mapping can tighten it
(:class:`QuarantinePolicy`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from services.partner_feed.formats.errors import Location
from services.partner_feed.formats.record import PartnerRecord
from services.partner_feed.validation.codelists import check_codelists
from services.partner_feed.validation.findings import Finding, Locations, Severity
from services.partner_feed.validation.rules import check_rules


class QuarantinePolicy(BaseModel):
    """Which findings quarantine a record, configured per partner (``quarantine`` in its
    source entry)::

        {"block": "error"}                      # every schema/codelist/rule error blocks
        {"block_rules": ["1.1.21", "6.2.2"]}    # these rules block, whatever their severity
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    block: Literal["critical", "error"] = "critical"
    """The lowest severity that quarantines: ``critical`` (default, as the Datastore) or
    ``error``."""
    block_rules: tuple[str, ...] = ()
    """Standard Ruleset ids (``1.1.21``) or finding codes (``codelist.Country.unknown``)
    that quarantine a record even as warnings."""

    def blocks(self, finding: Finding) -> bool:
        if finding.severity is Severity.CRITICAL:
            return True
        if self.block == "error" and finding.severity is Severity.ERROR:
            return True
        return finding.code in self.block_rules or (
            finding.rule is not None and finding.rule in self.block_rules
        )

    def blocking(self, findings: Iterable[Finding]) -> list[Finding]:
        return [f for f in findings if self.blocks(f)]


DEFAULT_POLICY = QuarantinePolicy()


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
    checked_by_ruleset: bool = False
    """True when the reader already ran the IATI Standard Ruleset on the source element, so
    the record-level rules that restate it are skipped."""


class RecordOutcome(BaseModel):
    """The verdict on one record: accepted (with any findings) or quarantined with reasons."""

    model_config = ConfigDict(frozen=True)

    ref: str
    location: Location
    accepted: bool
    record: PartnerRecord | None
    findings: tuple[Finding, ...]


def judge(
    candidate: Candidate, *, today: date, policy: QuarantinePolicy = DEFAULT_POLICY
) -> RecordOutcome:
    """Run codelist and rule checks on a candidate and decide. Never raises on content."""
    findings = list(candidate.findings)
    record = candidate.record
    if record is not None:
        findings += check_codelists(record, candidate.locations)
        findings += check_rules(
            record, candidate.locations, today=today, ruleset_ran=candidate.checked_by_ruleset
        )
    return RecordOutcome(
        ref=candidate.ref,
        location=candidate.location,
        accepted=record is not None and not policy.blocking(findings),
        record=record,
        findings=tuple(findings),
    )
