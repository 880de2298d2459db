"""The import report: counts, per-record findings (with severities and locations),
quarantined records, the fatal error if the input could not be read to the end, and the
removals the removal guard held for an operator (`status: held`, `held_removals`).

Per-record entries are kept up to a ceiling (`report_max_entries`); counts are always
complete and `entries_truncated` says when entries were left out.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from services.partner_feed.formats import IngestReport
from services.partner_feed.validation import Category, Finding, RecordOutcome, Severity
from shared.events.partner import RecordFinding

DUPLICATE = "rule.identifier.duplicate"


def _finding(f: Finding) -> orjson.Fragment:
    # Entries go to the store as JSON: serialised once, by pydantic, without Python dicts.
    return orjson.Fragment(f.model_dump_json(exclude_none=True))


def event_findings(findings: tuple[Finding, ...]) -> list[RecordFinding]:
    """Findings as the ``partner.record.*`` events carry them."""
    return [
        RecordFinding(
            code=f.code,
            severity=f.severity.value,
            category=f.category.value,
            message=f.message,
            rule=f.rule,
            line=f.location.line,
            path=f.location.path,
        )
        for f in findings
    ]


class ReportBuilder:
    def __init__(self, import_id: str, max_entries: int) -> None:
        self._import_id = import_id
        self._max = max_entries
        self._seq = 0
        self._pending: list[tuple[int, bool, dict[str, Any]]] = []
        self._truncated = False
        self.counts: Counter[str] = Counter(
            dict.fromkeys(
                (
                    "records", "accepted", "quarantined", "new", "changed",
                    "unchanged", "removed", "duplicates", "linked",
                ),
                0,
            )
        )  # fmt: skip
        self._extra_findings: Counter[str] = Counter()
        self._ingest: IngestReport | None = None
        self._held: dict[str, Any] | None = None

    def _entry(self, outcome: RecordOutcome, accepted: bool, findings: list[Finding]) -> None:
        if not findings and accepted:
            return
        if self._seq >= self._max:
            self._truncated = True
            return
        self._seq += 1
        body: dict[str, Any] = {
            "ref": outcome.ref,
            "record_id": outcome.record.record_id if outcome.record else None,
            "location": outcome.location.model_dump(mode="json", exclude_none=True),
            "findings": [_finding(f) for f in findings],
        }
        if not accepted and outcome.record is not None:
            body["record"] = orjson.Fragment(outcome.record.model_dump_json())
        self._pending.append((self._seq, accepted, body))

    def accepted(self, outcome: RecordOutcome, kind: str) -> None:
        self.counts["records"] += 1
        self.counts["accepted"] += 1
        self.counts[kind] += 1
        self._entry(outcome, True, list(outcome.findings))

    def quarantined(self, outcome: RecordOutcome) -> None:
        self.counts["records"] += 1
        self.counts["quarantined"] += 1
        self._entry(outcome, False, list(outcome.findings))

    def duplicate(self, outcome: RecordOutcome) -> None:
        finding = Finding(
            code=DUPLICATE,
            severity=Severity.ERROR,
            category=Category.RULE,
            message="this record id already appeared earlier in the same input",
            location=outcome.location,
        )
        self.counts["duplicates"] += 1
        self._extra_findings[DUPLICATE] += 1
        self.quarantined(outcome.model_copy(update={"findings": (*outcome.findings, finding)}))

    def linked(self, n: int) -> None:
        self.counts["linked"] += n

    def removed(self, n: int) -> None:
        self.counts["removed"] += n

    def hold(self, held: dict[str, Any]) -> None:
        """The removal guard held this import's removals (records, existing, share)."""
        self._held = {**held, "decision": None}

    def take_entries(self) -> list[tuple[int, bool, dict[str, Any]]]:
        entries, self._pending = self._pending, []
        return entries

    def absorb(self, report: IngestReport) -> None:
        self._ingest = report

    def summary(self) -> dict[str, Any]:
        fatal = self._ingest.fatal if self._ingest else None
        findings = Counter(self._ingest.finding_counts if self._ingest else {})
        findings.update(self._extra_findings)
        status = "failed" if fatal else "held" if self._held else "completed"
        return {
            "status": status,
            "counts": dict(self.counts),
            "held_removals": self._held,
            "finding_counts": dict(findings.most_common()),
            "fatal": fatal.model_dump(mode="json", exclude_none=True) if fatal else None,
            "entries_truncated": self._truncated,
        }
