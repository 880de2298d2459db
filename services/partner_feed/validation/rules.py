"""Record-level rules on a :class:`PartnerRecord`, for input the Standard Ruleset cannot run
on as XML (TFM, regional exports, IATI 1.0x mapped to 2.03).

Each rule restating a Standard Ruleset rule names its id, and its severity is looked up in
the shipped ruleset (:func:`rule_info`), never written here; ``RECORD_RULES`` lists them and
a test holds each against ``standard.json``. Our own checks (identifier present and shaped,
gender significance) carry no rule id. Rules are pure: the current date comes in as
``today`` so tests never depend on the clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
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
from services.partner_feed.validation.ruleset import rule_info

IDENTIFIER_FORMAT = re.compile(r"^[A-Za-z0-9-]+-.+")
"""An IATI identifier: an organisation-identifier prefix, a hyphen, the activity's own id."""
PREVIOUS_REPORTER_TYPE = "B1"
"""other-identifier type for a previous reporting-org identifier, an accepted prefix."""
_FORBIDDEN_CHARS = re.compile(r"[/&|?]")
_HUNDRED = Decimal(100)
_IATI = "iati-xml"

RECORD_RULES = (
    "1.1.21", "1.3.13", "4.3.1", "11.1.2", "11.1.3", "11.1.4", "11.1.5",
    "3.1.1", "3.1.2", "3.1.4", "3.4.1", "3.4.2", "3.4.4", "12.1.1",
    "2.1.1", "2.1.2", "2.1.4", "12.3.1",
)  # fmt: skip
"""Standard Ruleset ids restated on records here."""


def _rule(rule_id: str, message: str, locations: Locations, *keys: str) -> Finding:
    info = rule_info(rule_id)
    return Finding(
        code=f"iati-rule.{rule_id}",
        rule=rule_id,
        severity=info.severity,
        category=Category.RULE,
        message=f"{info.message} ({message})",
        location=locate(locations, *keys),
    )


def _own(code: str, severity: Severity, message: str, locations: Locations, *keys: str) -> Finding:
    return Finding(
        code=code,
        severity=severity,
        category=Category.RULE,
        message=message,
        location=locate(locations, *keys),
    )


def check_rules(
    record: PartnerRecord, locations: Locations, *, today: date, ruleset_ran: bool = False
) -> list[Finding]:
    """Every rule finding for one record (empty when the record is clean).

    ``ruleset_ran``: the Standard Ruleset already ran on the source XML; only the checks it
    does not make are run here.
    """
    out = [*_identifier(record, locations, ruleset_ran), *_gender(record, locations)]
    if not ruleset_ran:
        out += [
            *_title(record, locations),
            *_dates(record, locations, today),
            *_geography(record, locations),
            *_sectors(record, locations),
        ]
    return out


def _identifier(
    record: PartnerRecord, locations: Locations, ruleset_ran: bool
) -> Iterator[Finding]:
    ident = record.identifiers.iati_identifier
    if record.source_format != _IATI:
        return
    if not ident:
        yield _own(
            "rule.identifier.missing",
            Severity.CRITICAL,
            "the activity has no iati-identifier: it cannot be kept in sync",
            locations,
            "identifier",
        )
        return
    if not IDENTIFIER_FORMAT.match(ident):
        yield _own(
            "rule.identifier.format",
            Severity.WARNING,
            f"iati-identifier {ident!r} is not <organisation-identifier>-<activity id>",
            locations,
            "identifier",
        )
    if ruleset_ran:
        return
    ref = record.reporting_org_ref
    previous = [o.ref for o in record.identifiers.other if o.type == PREVIOUS_REPORTER_TYPE]
    if ref and not any(ident.startswith(f"{p}-") for p in (ref, *previous) if p):
        yield _rule("1.1.21", f"{ident!r}, reporting-org {ref!r}", locations, "identifier")
    if _FORBIDDEN_CHARS.search(ident):
        yield _rule("1.3.13", repr(ident), locations, "identifier")


def _title(record: PartnerRecord, locations: Locations) -> Iterator[Finding]:
    if not any(text.strip() for text in record.titles.values()):
        yield _rule("4.3.1", "no title in any language", locations, "titles")


def _dates(record: PartnerRecord, locations: Locations, today: date) -> Iterator[Finding]:
    pairs = (
        ("11.1.2", "planned_start", "planned_end", record.planned_start, record.planned_end),
        ("11.1.3", "actual_start", "actual_end", record.actual_start, record.actual_end),
    )
    for rule_id, start_key, end_key, start, end in pairs:
        if start and end and start > end:
            yield _rule(rule_id, f"{start_key} {start}, {end_key} {end}", locations, end_key)
    for rule_id, key, actual in (
        ("11.1.4", "actual_start", record.actual_start),
        ("11.1.5", "actual_end", record.actual_end),
    ):
        if actual and actual > today:
            yield _rule(rule_id, f"{key} {actual}, today {today}", locations, key)


def _sum(shares: Sequence[Decimal | None]) -> Decimal:
    return sum((p for p in shares if p is not None), Decimal(0))


def _geography(record: PartnerRecord, locations: Locations) -> Iterator[Finding]:
    """Rules 3.1.x / 3.4.x / 12.1.1 as the Standard Ruleset words them.

    Exports other than IATI carry no shares at all; with none given there is nothing to
    add up, so the sum rules only apply to IATI input or when some share is given.
    """
    keys = ("recipient_countries", "recipient_regions")
    countries = [c.percentage for c in record.recipient_countries]
    by_vocab: dict[str, list[Decimal | None]] = {}
    for region in record.recipient_regions:
        by_vocab.setdefault(region.vocabulary, []).append(region.percentage)
    every = countries + [p for shares in by_vocab.values() for p in shares]
    if record.source_format != _IATI and all(p is None for p in every):
        return
    for p in every:
        if p is not None and not 0 <= p <= 100:
            yield _rule("12.1.1", f"{p}", locations, *keys)
    if not by_vocab:
        if len(countries) > 1 and None in countries:
            yield _rule("3.1.1", f"{countries.count(None)} without", locations, *keys)
        if len(countries) > 1 and _sum(countries) != _HUNDRED:
            yield _rule("3.1.2", f"the sum is {_sum(countries)}", locations, *keys)
        if len(countries) == 1 and countries[0] not in (None, _HUNDRED):
            yield _rule("3.1.4", f"{countries[0]}", locations, *keys)
        return
    for vocab, regions in by_vocab.items():
        if len(regions) > 1 and None in regions:
            yield _rule("3.4.1", f"vocabulary {vocab}", locations, *keys)
        if len(regions) == 1 and not countries and regions[0] not in (None, _HUNDRED):
            yield _rule("3.4.4", f"vocabulary {vocab}: {regions[0]}", locations, *keys)
        if len(regions) + len(countries) > 1 and _sum(regions + countries) != _HUNDRED:
            total = _sum(regions + countries)
            yield _rule("3.4.2", f"vocabulary {vocab}: the sum is {total}", locations, *keys)


def _sectors(record: PartnerRecord, locations: Locations) -> Iterator[Finding]:
    by_vocab: dict[str, list[Decimal | None]] = {}
    for sector in record.sectors:
        by_vocab.setdefault(sector.vocabulary or "1", []).append(sector.percentage)
    for vocab, shares in by_vocab.items():
        for p in shares:
            if p is not None and not 0 <= p <= 100:
                yield _rule("12.3.1", f"{p}", locations, "sectors")
        if len(shares) > 1 and None in shares:
            yield _rule("2.1.1", f"vocabulary {vocab}", locations, "sectors")
        # 2.1.2 as worded: vocabulary 1 adds up once two sectors give a percentage, the
        # other vocabularies once they have two sectors.
        counted = [p for p in shares if p is not None] if vocab == "1" else shares
        if len(counted) > 1 and _sum(counted) != _HUNDRED:
            total = _sum(counted)
            yield _rule("2.1.2", f"vocabulary {vocab}: the sum is {total}", locations, "sectors")
        if len(shares) == 1 and shares[0] not in (None, _HUNDRED):
            yield _rule("2.1.4", f"vocabulary {vocab}: {shares[0]}", locations, "sectors")


def _gender(record: PartnerRecord, locations: Locations) -> Iterator[Finding]:
    marker = record.gender_marker
    if marker is not None and not 0 <= marker <= 2:
        yield _own(
            "rule.gender_marker.significance",
            Severity.WARNING,
            f"gender policy-marker significance {marker} is outside 0-2",
            locations,
            "gender_marker",
        )
