"""Codelist checks on a :class:`PartnerRecord`, against the checked-in IATI codelists.

The JSON files under ``services/partner_feed/codelists/`` are derived by
``tools/build_codelists.py``; they are read once per process (cached), never at import.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from importlib import resources

import orjson

from services.partner_feed.formats.record import PartnerRecord
from services.partner_feed.validation.findings import (
    Category,
    Finding,
    Locations,
    Severity,
    locate,
)

_PACKAGE = "services.partner_feed.codelists"


class Codelist:
    """Active and withdrawn codes of one IATI codelist."""

    def __init__(self, name: str, active: frozenset[str], withdrawn: frozenset[str]) -> None:
        self.name = name
        self.active = active
        self.withdrawn = withdrawn

    def __contains__(self, code: object) -> bool:
        return code in self.active


@cache
def codelist(name: str) -> Codelist:
    """Load a codelist by its IATI name (``Country``, ``UNSDG-Targets``, ...)."""
    raw = orjson.loads(resources.files(_PACKAGE).joinpath(f"{name}.json").read_bytes())
    return Codelist(name, frozenset(raw["active"]), frozenset(raw["withdrawn"]))


def _check(
    name: str, code: str | None, key: str, locations: Locations, *, severity: Severity
) -> Iterator[Finding]:
    if code is None:
        return
    listed = codelist(name)
    if code in listed:
        return
    withdrawn = code in listed.withdrawn
    yield Finding(
        code=f"codelist.{name}.{'withdrawn' if withdrawn else 'unknown'}",
        severity=Severity.WARNING if withdrawn else severity,
        category=Category.CODELIST,
        message=f"{code!r} is {'a withdrawn' if withdrawn else 'not an'} {name} code",
        location=locate(locations, key),
    )


_SECTOR_LISTS = {"1": "Sector", "2": "SectorCategory"}
_REGION_LISTS = {"1": "Region"}


def check_codelists(record: PartnerRecord, locations: Locations) -> list[Finding]:
    """Every coded value of the record checked against its codelist."""
    err, warn = Severity.ERROR, Severity.WARNING
    out: list[Finding] = []
    out += _check("ActivityStatus", record.status, "status", locations, severity=err)
    for i, country in enumerate(record.recipient_countries):
        key = f"recipient_countries/{i}"
        out += _check("Country", country.code, key, locations, severity=err)
    for i, region in enumerate(record.recipient_regions):
        key = f"recipient_regions/{i}"
        out += _check("RegionVocabulary", region.vocabulary, key, locations, severity=err)
        if region.vocabulary in _REGION_LISTS:
            out += _check(
                _REGION_LISTS[region.vocabulary], region.code, key, locations, severity=err
            )
    for i, sector in enumerate(record.sectors):
        key = f"sectors/{i}"
        out += _check("SectorVocabulary", sector.vocabulary, key, locations, severity=err)
        if sector.vocabulary in _SECTOR_LISTS:
            out += _check(
                _SECTOR_LISTS[sector.vocabulary], sector.code, key, locations, severity=err
            )
    for i, goal in enumerate(record.sdg_goals):
        out += _check("UNSDG-Goals", goal, f"sdg_goals/{i}", locations, severity=err)
    for i, target in enumerate(record.sdg_targets):
        out += _check("UNSDG-Targets", target, f"sdg_targets/{i}", locations, severity=err)
    for i, org in enumerate(record.participating_orgs):
        key = f"participating_orgs/{i}"
        out += _check("OrganisationRole", org.role, key, locations, severity=err)
        out += _check("OrganisationType", org.type, key, locations, severity=warn)
    for i, tag in enumerate(record.tags):
        out += _check("TagVocabulary", tag.vocabulary, f"tags/{i}", locations, severity=err)
    for field in ("titles", "descriptions"):
        texts: dict[str, str] = getattr(record, field)
        for lang in texts:
            out += _check("Language", lang, f"{field}/{lang}", locations, severity=warn)
    return out
