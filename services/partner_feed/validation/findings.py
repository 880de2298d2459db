"""Validation findings, modelled on the IATI Validator: a code, a severity, a location."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, ValidationError

from services.partner_feed.formats.errors import Location


class Severity(StrEnum):
    CRITICAL = "critical"
    """The record cannot be used at all (unreadable, unidentifiable, unmappable): always
    quarantined."""
    ERROR = "error"
    """The record breaks a schema, codelist or rule: accepted with the finding attached,
    unless the partner's :class:`QuarantinePolicy` blocks errors."""
    WARNING = "warning"
    """Worth telling the partner; the record is accepted."""


class Category(StrEnum):
    SCHEMA = "schema"
    CODELIST = "codelist"
    RULE = "rule"
    FORMAT = "format"
    SECURITY = "security"


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    category: Category
    message: str
    location: Location = Location()
    rule: str | None = None
    """The IATI Validator's rule id (Standard Ruleset ``1.1.21``, schema ``0.3.1``) when the
    finding is one of its rules; None for our own format and codelist findings."""


Locations = Mapping[str, Location]
"""Where each field of a record came from, keyed by field path (``recipient_countries/2``).

Readers fill it; rules look a field up with :func:`locate`, falling back to the record's own
location under the key ``""``.
"""


def locate(locations: Locations, *keys: str) -> Location:
    """The location of the first key present, else the record's location, else unknown."""
    for key in (*keys, ""):
        if key in locations:
            return locations[key]
    return Location()


def from_validation_error(
    exc: ValidationError, *, base: str, line: int | None = None, prefix: str = "wrong-type"
) -> list[Finding]:
    """One error finding per pydantic fault, located by JSON pointer under ``base``."""
    out = []
    for err in exc.errors(include_url=False):
        path = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in err["loc"])
        out.append(
            Finding(
                code=f"{prefix}.{err['type']}",
                severity=Severity.ERROR,
                category=Category.FORMAT,
                message=err["msg"],
                location=Location(line=line, path=base + path),
            )
        )
    return out
