"""IATI XML input as :class:`Candidate` records: version check, schema, mapping."""

from __future__ import annotations

from collections.abc import Iterator

from services.partner_feed.formats.errors import Location, UnsupportedVersion
from services.partner_feed.formats.iati_legacy import check_supported, detect_version
from services.partner_feed.formats.iati_mapping import map_activity
from services.partner_feed.formats.iati_reader import iter_activities
from services.partner_feed.formats.safety import ByteSource, Limits
from services.partner_feed.validation.findings import Category, Finding, Severity
from services.partner_feed.validation.schema import validate_activity
from services.partner_feed.validation.verdict import Candidate


def read_iati(source: ByteSource, *, partner_id: str, limits: Limits) -> Iterator[Candidate]:
    """One candidate per ``iati-activity``; raises :class:`InvalidInput` on a fatal fault
    after yielding every activity completed before it."""
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
        if legacy_mode:
            findings = [
                Finding(
                    code="format.legacy_version",
                    severity=Severity.WARNING,
                    category=Category.FORMAT,
                    message=f"IATI {version} activity mapped to 2.03; not schema-checked",
                    location=location,
                )
            ]
        else:
            findings = validate_activity(el, item.path)
        record, locations, mapping_findings = map_activity(
            el,
            partner_id=partner_id,
            path=item.path,
            legacy_mode=legacy_mode,
            max_chars=limits.max_field_chars,
        )
        yield Candidate(
            ref=ref or item.path,
            location=location,
            record=record,
            locations=locations,
            findings=(*findings, *mapping_findings),
        )
