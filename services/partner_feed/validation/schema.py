"""IATI 2.03 XSD validation of one ``iati-activity`` element at a time.

The four XSDs ship as package data in ``services/partner_feed/formats/schema/``; they are
parsed once per process (no network, no entity expansion).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from lxml import etree

from services.partner_feed.formats.errors import Location
from services.partner_feed.validation.findings import Category, Finding, Severity

_SCHEMA_PACKAGE = "services.partner_feed.formats.schema"

MAPPED_ELEMENTS = frozenset(
    {
        "iati-identifier",
        "reporting-org",
        "title",
        "description",
        "participating-org",
        "other-identifier",
        "activity-status",
        "activity-date",
        "recipient-country",
        "recipient-region",
        "sector",
        "tag",
        "policy-marker",
        "related-activity",
    }
)
"""Top-level children we map into a PartnerRecord. A schema fault inside one of them (or on
the activity itself) is an error; a fault in an element we do not use (document-link,
location, budget, transaction, result, ...) only a warning, so an empty ``document-link``
does not cost a partner an otherwise sound activity. Neither blocks the record under the
default quarantine policy (:class:`QuarantinePolicy`): the value at fault is read as absent."""
SCHEMA_RULE = "0.3.1"
"""The IATI Validator's rule id for schema faults."""


@cache
def activity_schema() -> Any:
    """The compiled 2.03 activity schema (``lxml.etree.XMLSchema``)."""
    folder = resources.files(_SCHEMA_PACKAGE)
    with resources.as_file(folder.joinpath("iati-activities-schema.xsd")) as xsd:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        return etree.XMLSchema(etree.parse(str(xsd), parser))


def validate_activity(element: Any, base_path: str) -> list[Finding]:
    """Schema findings for one ``iati-activity`` element, located by line and path.

    ``base_path`` is the activity's own path (``/iati-activities/iati-activity[3]``); the
    validator's paths are relative to the element and are re-rooted there.
    """
    schema = activity_schema()
    if schema.validate(element):
        return []
    findings = []
    for entry in schema.error_log:
        rel = entry.path or ""
        rel = rel.removeprefix("/iati-activity")
        child = rel.lstrip("/").split("/", 1)[0].split("[", 1)[0]
        severity = Severity.ERROR if not child or child in MAPPED_ELEMENTS else Severity.WARNING
        findings.append(
            Finding(
                code="schema.invalid",
                rule=SCHEMA_RULE,
                severity=severity,
                category=Category.SCHEMA,
                message=entry.message,
                location=Location(
                    line=entry.line, column=entry.column or None, path=base_path + rel
                ),
            )
        )
    return findings
