"""IATI Standard rules applied to a :class:`PartnerRecord` (after the IATI Validator's).

Rules are pure: the current date comes in as ``today`` so tests never depend on the clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from services.partner_feed.formats.record import PartnerRecord
from services.partner_feed.validation.findings import (
    Category,
    Finding,
    Locations,
    Severity,
    locate,
)

IDENTIFIER_FORMAT = re.compile(r"^[A-Za-z0-9-]+-.+")
"""An IATI identifier: an organisation-identifier prefix, a hyphen, the activity's own id."""
PREVIOUS_REPORTER_TYPE = "B1"
"""other-identifier type for a previous reporting-org identifier, an accepted prefix."""
_DISCOURAGED_CHARS = re.compile(r"[/&|?\s]")
PERCENTAGE_TOLERANCE = Decimal("0.1")
"""Rounding slack for percentage sums: 7 x 14.28/14.29 or 3 x 33.33 still count as 100."""
_HUNDRED = Decimal(100)


def _finding(
    code: str, severity: Severity, message: str, locations: Locations, *keys: str
) -> Finding:
    return Finding(
        code=code,
        severity=severity,
        category=Category.RULE,
        message=message,
        location=locate(locations, *keys),
    )


def check_rules(record: PartnerRecord, locations: Locations, *, today: date) -> list[Finding]:
    """Every rule finding for one record (empty when the record is clean)."""
    return [
        *_identifier(record, locations),
        *_title(record, locations),
        *_dates(record, locations, today),
        *_geography(record, locations),
        *_sectors(record, locations),
        *_gender(record, locations),
    ]


def _identifier(record: PartnerRecord, locations: Locations) -> Iterator[Finding]:
    ident = record.identifiers.iati_identifier
    if record.source_format != "iati-xml":
        return
    if not ident:
        yield _finding(
            "rule.identifier.missing",
            Severity.CRITICAL,
            "the activity has no iati-identifier",
            locations,
            "identifier",
        )
        return
    if not IDENTIFIER_FORMAT.match(ident):
        yield _finding(
            "rule.identifier.format",
            Severity.ERROR,
            f"iati-identifier {ident!r} is not <organisation-identifier>-<activity id>",
            locations,
            "identifier",
        )
    ref = record.reporting_org_ref
    previous = [o.ref for o in record.identifiers.other if o.type == PREVIOUS_REPORTER_TYPE]
    if ref and not any(ident.startswith(prefix) for prefix in (ref, *previous) if prefix):
        yield _finding(
            "rule.identifier.prefix",
            Severity.ERROR,
            f"iati-identifier {ident!r} does not start with the reporting-org ref {ref!r}",
            locations,
            "identifier",
        )
    if _DISCOURAGED_CHARS.search(ident):
        yield _finding(
            "rule.identifier.characters",
            Severity.WARNING,
            f"iati-identifier {ident!r} contains / & | ? or whitespace",
            locations,
            "identifier",
        )


def _title(record: PartnerRecord, locations: Locations) -> Iterator[Finding]:
    if not any(text.strip() for text in record.titles.values()):
        yield _finding(
            "rule.title.missing", Severity.ERROR, "the record has no title", locations, "titles"
        )


def _dates(record: PartnerRecord, locations: Locations, today: date) -> Iterator[Finding]:
    pairs = (
        ("planned_start", "planned_end", record.planned_start, record.planned_end),
        ("actual_start", "actual_end", record.actual_start, record.actual_end),
    )
    for start_key, end_key, start, end in pairs:
        if start and end and start > end:
            yield _finding(
                "rule.dates.order",
                Severity.ERROR,
                f"{start_key} {start} is after {end_key} {end}",
                locations,
                end_key,
            )
    for key, actual in (("actual_start", record.actual_start), ("actual_end", record.actual_end)):
        if actual and actual > today:
            yield _finding(
                f"rule.dates.{key}_in_future",
                Severity.ERROR,
                f"{key} {actual} is in the future (today is {today})",
                locations,
                key,
            )


def _sum_is_hundred(total: Decimal) -> bool:
    return abs(total - _HUNDRED) <= PERCENTAGE_TOLERANCE


def _geography(record: PartnerRecord, locations: Locations) -> Iterator[Finding]:
    shares = [c.percentage for c in record.recipient_countries]
    shares += [r.percentage for r in record.recipient_regions]
    if all(p is None for p in shares) and (len(shares) <= 1 or record.source_format != "iati-xml"):
        # Exports other than IATI carry no shares at all; nothing to add up.
        return
    if any(p is None for p in shares):
        yield _finding(
            "rule.geography.percentage_missing",
            Severity.ERROR,
            "with several recipient countries/regions each needs a percentage",
            locations,
            "recipient_countries",
            "recipient_regions",
        )
        return
    total = sum((p for p in shares if p is not None), Decimal(0))
    if not _sum_is_hundred(total):
        yield _finding(
            "rule.geography.percentage_sum",
            Severity.ERROR,
            f"recipient country and region percentages sum to {total}, not 100",
            locations,
            "recipient_countries",
            "recipient_regions",
        )


def _sectors(record: PartnerRecord, locations: Locations) -> Iterator[Finding]:
    by_vocab: dict[str, list[Decimal | None]] = {}
    for sector in record.sectors:
        by_vocab.setdefault(sector.vocabulary, []).append(sector.percentage)
    for vocab, shares in by_vocab.items():
        if len(shares) == 1 and shares[0] is None:
            continue
        total = sum((p or Decimal(0) for p in shares), Decimal(0))
        if None in shares or not _sum_is_hundred(total):
            yield _finding(
                "rule.sectors.percentage_sum",
                Severity.ERROR,
                f"sector percentages of vocabulary {vocab} sum to {total}, not 100",
                locations,
                "sectors",
            )


def _gender(record: PartnerRecord, locations: Locations) -> Iterator[Finding]:
    marker = record.gender_marker
    if marker is not None and not 0 <= marker <= 2:
        yield _finding(
            "rule.gender_marker.significance",
            Severity.WARNING,
            f"gender policy-marker significance {marker} is outside 0-2",
            locations,
            "gender_marker",
        )
