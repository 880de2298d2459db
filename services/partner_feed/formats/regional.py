"""Regional-community exports (CSV or JSON) read through a per-partner column mapping.

Each community publishes its own layout, so the mapping is configuration: a
:class:`RegionalMapping` names, for each source column (CSV header or top-level JSON key),
the :class:`PartnerRecord` field it feeds, with an optional value map (``"En cours" → "2"``)
and list separator.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.partner_feed.formats.csv_cells import iter_rows
from services.partner_feed.formats.errors import Location, WrongType
from services.partner_feed.formats.json_input import faults, load_json, pointer
from services.partner_feed.formats.record import (
    CountryShare,
    Participant,
    PartnerRecord,
    Sector,
    SourceFormat,
)
from services.partner_feed.formats.safety import ByteSource, Limits
from services.partner_feed.validation.findings import (
    Category,
    Finding,
    Severity,
    from_validation_error,
)
from services.partner_feed.validation.verdict import Candidate

TargetField = Literal[
    "record_id", "iati_identifier", "title", "description", "status",
    "planned_start", "actual_start", "planned_end", "actual_end",
    "recipient_countries", "sectors", "sdg_goals", "sdg_targets", "participating_org",
    "gender_marker", "da_recommendations", "regional_communities", "last_updated",
]  # fmt: skip
_LIST_FIELDS = {
    "recipient_countries", "sectors", "sdg_goals", "sdg_targets", "da_recommendations",
    "regional_communities",
}  # fmt: skip


class ColumnMapping(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(min_length=1)
    field: TargetField
    value_map: dict[str, str] = {}
    """Source value → normalised value; values not in the map pass through unchanged."""
    separator: str | None = None
    """Splits a list cell (list fields default to ``;``)."""
    language: str = "en"
    """For ``title`` / ``description``: the language of this column."""
    role: Literal["1", "2", "3", "4"] = "4"
    """For ``participating_org``: the IATI role of the organisation named in this column."""


class RegionalMapping(BaseModel):
    """How one regional community's export maps to :class:`PartnerRecord`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    partner_id: str = Field(min_length=1)
    community: str = Field(min_length=1)
    """Acronym added to every record's ``regional_communities`` (``EAC``, ``ECOWAS``)."""
    columns: tuple[ColumnMapping, ...] = Field(min_length=1)
    records_key: str | None = None
    """For JSON: the top-level key holding the record array (None: the document is one)."""


def _values(column: ColumnMapping, raw: Any) -> list[str]:
    if isinstance(raw, list):
        items = [str(v).strip() for v in raw]
    elif column.field in _LIST_FIELDS:
        items = [p.strip() for p in str(raw).split(column.separator or ";")]
    else:
        items = [str(raw).strip()]
    return [column.value_map.get(v, v) for v in items if v]


def _build(data: dict[str, Any], mapping: RegionalMapping) -> dict[str, Any]:
    out: dict[str, Any] = {"titles": {}, "descriptions": {}, "participating_orgs": []}
    lists: dict[str, list[str]] = {name: [] for name in _LIST_FIELDS}
    lists["regional_communities"].append(mapping.community)
    for column in mapping.columns:
        raw = data.get(column.source)
        if raw is None or raw == "":
            continue
        values = _values(column, raw)
        if not values:
            continue
        if column.field in _LIST_FIELDS:
            lists[column.field] += values
        elif column.field == "title":
            out["titles"][column.language] = values[0]
        elif column.field == "description":
            out["descriptions"][column.language] = values[0]
        elif column.field == "participating_org":
            out["participating_orgs"].append(Participant(role=column.role, name={"en": values[0]}))
        elif column.field == "iati_identifier":
            out["identifiers"] = {"iati_identifier": values[0]}
        else:
            out[column.field] = values[0]
    out["recipient_countries"] = [
        CountryShare(code=c.upper()) for c in lists.pop("recipient_countries")
    ]
    out["sectors"] = [Sector(code=c) for c in lists.pop("sectors")]
    out.update({name: tuple(dict.fromkeys(v)) for name, v in lists.items()})
    return out


def _candidate(
    data: Any, mapping: RegionalMapping, fmt: SourceFormat, where: Location, findings: list[Finding]
) -> Candidate:
    if not isinstance(data, dict):
        findings.append(
            Finding(
                code="wrong-type",
                severity=Severity.ERROR,
                category=Category.FORMAT,
                message="a record must be an object",
                location=where,
            )
        )
        return Candidate(ref=str(where), location=where, record=None, findings=tuple(findings))
    fields = _build(data, mapping)
    ref = str(fields.get("record_id") or where.path or f"line {where.line}")
    try:
        record = PartnerRecord.model_validate(
            {"partner_id": mapping.partner_id, "source_format": fmt, "record_id": ref, **fields}
        )
    except ValidationError as exc:
        findings += from_validation_error(exc, base=where.path or "", line=where.line)
        return Candidate(ref=ref, location=where, record=None, findings=tuple(findings))
    return Candidate(
        ref=ref, location=where, record=record, locations={"": where}, findings=tuple(findings)
    )


def read_regional(
    source: ByteSource, *, source_format: SourceFormat, mapping: RegionalMapping, limits: Limits
) -> Iterator[Candidate]:
    """Candidates from a regional CSV or JSON export; faults per row / record."""
    if source_format is SourceFormat.REGIONAL_CSV:
        for row in iter_rows(source, limits):
            where = Location(line=row.line)
            if any(f.severity is not Severity.WARNING for f in row.findings):
                yield Candidate(
                    ref=f"line {row.line}",
                    location=where,
                    record=None,
                    findings=tuple(row.findings),
                )
                continue
            yield _candidate(row.cells, mapping, source_format, where, list(row.findings))
        return
    doc = load_json(source, limits)
    prefix: tuple[str, ...] = ()
    if mapping.records_key is not None and isinstance(doc, dict):
        doc, prefix = doc.get(mapping.records_key), (mapping.records_key,)
    if not isinstance(doc, list):
        raise WrongType("expected an array of records", Location(path=pointer(*prefix)))
    for i, item in enumerate(doc[: limits.max_records]):
        where = Location(path=pointer(*prefix, i))
        problems = [
            Finding(
                code=code,
                severity=Severity.ERROR,
                category=Category.SECURITY,
                message=msg,
                location=Location(path=at),
            )
            for code, msg, at in faults(
                item,
                (*prefix, i),
                max_depth=limits.max_json_depth,
                max_chars=limits.max_field_chars,
            )
        ]
        if problems:
            yield Candidate(
                ref=where.path or "", location=where, record=None, findings=tuple(problems)
            )
            continue
        yield _candidate(item, mapping, source_format, where, [])
