"""IATI XML input as :class:`Candidate` records: version check, tolerant reading, schema,
the IATI Standard Ruleset, mapping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from services.partner_feed.formats.errors import Location, UnsupportedVersion
from services.partner_feed.formats.iati_element import ElementReader
from services.partner_feed.formats.iati_legacy import check_supported, detect_version
from services.partner_feed.formats.iati_mapping import map_activity
from services.partner_feed.formats.iati_reader import iter_activities
from services.partner_feed.formats.iati_tolerant import normalise_activity
from services.partner_feed.formats.safety import ByteSource, Limits
from services.partner_feed.validation.findings import Category, Finding, Severity
from services.partner_feed.validation.ruleset import standard_ruleset
from services.partner_feed.validation.schema import validate_activity
from services.partner_feed.validation.verdict import Candidate


def read_iati(
    source: ByteSource, *, partner_id: str, limits: Limits, today: date
) -> Iterator[Candidate]:
    """One candidate per ``iati-activity``; raises :class:`InputFault` on a fatal fault
    after yielding every activity completed before it.

    2.0x activities are checked against the 2.03 schema and the IATI Standard Ruleset (the
    Validator's rule ids and severities); 1.0x activities are mapped to 2.03 and checked by
    the record-level rules (:mod:`validation.rules`), which cite the same rule ids.
    """
    ruleset = standard_ruleset()
    for item in iter_activities(source, limits):
        el = item.element
        location = Location(line=el.sourceline, path=item.path)
        ident_el = el.find("iati-identifier")
        ref = (ident_el.text or "").strip() if ident_el is not None else ""
        version = detect_version(el, item.root_version)
        try:
            legacy_mode = check_supported(version, location)
        except UnsupportedVersion as exc:
            finding = Finding(
                code=exc.code,
                severity=Severity.CRITICAL,
                category=Category.FORMAT,
                message=exc.message,
                location=location,
            )
            yield Candidate(
                ref=ref or item.path, location=location, record=None, findings=(finding,)
            )
            continue
        reader = ElementReader(el, item.path, legacy_mode, limits.max_field_chars)
        findings = normalise_activity(el, reader.loc)
        identifiers = el.findall("iati-identifier")
        if len(identifiers) > 1:
            findings.append(
                Finding(
                    code="rule.identifier.ambiguous",
                    severity=Severity.CRITICAL,
                    category=Category.RULE,
                    message=f"the activity has {len(identifiers)} iati-identifier elements",
                    location=reader.loc(identifiers[1]),
                )
            )
        if legacy_mode:
            findings.append(
                Finding(
                    code="format.legacy_version",
                    severity=Severity.WARNING,
                    category=Category.FORMAT,
                    message=f"IATI {version} activity mapped to 2.03; not schema-checked",
                    location=location,
                )
            )
        else:
            findings += validate_activity(el, item.path)
            findings += ruleset.evaluate(el, today=today, locate=reader.loc)
        record, locations, mapping_findings = map_activity(el, partner_id=partner_id, reader=reader)
        yield Candidate(
            ref=ref or item.path,
            location=location,
            record=record,
            locations=locations,
            findings=(*findings, *mapping_findings),
            checked_by_ruleset=not legacy_mode,
        )
