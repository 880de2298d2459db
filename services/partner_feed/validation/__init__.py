"""Per-record validation after the IATI Validator: schema, codelists, rules, verdict."""

from services.partner_feed.validation.findings import Category, Finding, Severity
from services.partner_feed.validation.verdict import (
    Candidate,
    QuarantinePolicy,
    RecordOutcome,
    judge,
)

__all__ = [
    "Candidate",
    "Category",
    "Finding",
    "QuarantinePolicy",
    "RecordOutcome",
    "Severity",
    "judge",
]
