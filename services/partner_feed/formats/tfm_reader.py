"""TFM exports (JSON and CSV, ``tfm-record`` v1) as :class:`Candidate` records."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from services.partner_feed.formats import vocabularies as voc
from services.partner_feed.formats.csv_cells import iter_rows
from services.partner_feed.formats.errors import Location, WrongType
from services.partner_feed.formats.json_input import faults, load_json, pointer
from services.partner_feed.formats.record import (
    CountryShare,
    Identifiers,
    Participant,
    PartnerRecord,
    SourceFormat,
    Tag,
)
from services.partner_feed.formats.safety import ByteSource, Limits
from services.partner_feed.formats.tfm_csv import row_to_data
from services.partner_feed.formats.tfm_model import ROLE_CODES, STATUS_CODES, TfmRecord
from services.partner_feed.validation.findings import (
    Category,
    Finding,
    Severity,
    from_validation_error,
)
from services.partner_feed.validation.verdict import Candidate

MODALITY_URI = "https://www.un.org/technologybank/tfm/modality"
_STARTED = {"ongoing", "finalisation", "completed"}


def to_partner_record(
    tfm: TfmRecord, *, partner_id: str, source_format: SourceFormat
) -> PartnerRecord:
    """Normalise a TFM record. A start date counts as actual once the record has started,
    an end date once it is completed; otherwise both are planned."""
    started, done = tfm.status in _STARTED, tfm.status == "completed"
    accountable = Participant(role="2", name={"en": tfm.un_entity})
    tags: tuple[Tag, ...] = ()
    if tfm.modality:
        tags = (
            Tag(
                code=tfm.modality,
                vocabulary=voc.REPORTING_ORG_VOCABULARY,
                vocabulary_uri=MODALITY_URI,
            ),
        )
    return PartnerRecord(
        partner_id=partner_id,
        record_id=tfm.record_id,
        source_format=source_format,
        identifiers=Identifiers(),
        titles=dict(tfm.titles),
        descriptions=dict(tfm.summaries),
        status=STATUS_CODES[tfm.status],
        planned_start=None if started else tfm.start_date,
        actual_start=tfm.start_date if started else None,
        planned_end=None if done else tfm.end_date,
        actual_end=tfm.end_date if done else None,
        recipient_countries=tuple(CountryShare(code=c) for c in tfm.countries),
        sdg_goals=tuple(str(g) for g in tfm.sdg_goals),
        sdg_targets=tfm.sdg_targets,
        participating_orgs=(
            accountable,
            *(
                Participant(role=ROLE_CODES[p.role], ref=p.iati_ref, name={"en": p.name})
                for p in tfm.partners
            ),
        ),
        gender_marker=tfm.gender_marker,
        regional_communities=tfm.regional_groupings,
        da_recommendations=tfm.da_recommendations,
        tags=tags,
        last_updated=tfm.last_modified,
    )


def _candidate(
    data: Any,
    *,
    partner_id: str,
    source_format: SourceFormat,
    base: str,
    line: int | None,
    findings: list[Finding],
) -> Candidate:
    ref = str(data.get("record_id") or base) if isinstance(data, dict) else base
    location = Location(line=line, path=base or None)
    try:
        tfm = TfmRecord.model_validate(data)
    except ValidationError as exc:
        findings += from_validation_error(exc, base=base, line=line)
        return Candidate(ref=ref, location=location, record=None, findings=tuple(findings))
    record = to_partner_record(tfm, partner_id=partner_id, source_format=source_format)
    return Candidate(
        ref=ref,
        location=location,
        record=record,
        locations={"": location},
        findings=tuple(findings),
    )


def read_tfm_json(source: ByteSource, *, partner_id: str, limits: Limits) -> Iterator[Candidate]:
    """Records from a JSON array or ``{"records": [...]}``; faults per record by JSON pointer."""
    doc = load_json(source, limits)
    prefix: tuple[str, ...] = ()
    if isinstance(doc, dict) and "records" in doc:
        doc, prefix = doc["records"], ("records",)
    if not isinstance(doc, list):
        raise WrongType(
            'expected an array of TFM records (or {"records": [...]})',
            Location(path=pointer(*prefix)),
        )
    for i, item in enumerate(doc[: limits.max_records]):
        base = pointer(*prefix, i)
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
                ref=base, location=Location(path=base), record=None, findings=tuple(problems)
            )
            continue
        yield _candidate(
            item,
            partner_id=partner_id,
            source_format=SourceFormat.TFM_JSON,
            base=base,
            line=None,
            findings=[],
        )


def read_tfm_csv(source: ByteSource, *, partner_id: str, limits: Limits) -> Iterator[Candidate]:
    """Records from a CSV with the v1 header; faults per row (line number, column name)."""
    for row in iter_rows(source, limits, required=("record_id",)):
        base = f"row {row.line}"
        if any(f.severity is not Severity.WARNING for f in row.findings):
            yield Candidate(
                ref=row.cells.get("record_id") or base,
                location=Location(line=row.line),
                record=None,
                findings=tuple(row.findings),
            )
            continue
        yield _candidate(
            row_to_data(row.cells),
            partner_id=partner_id,
            source_format=SourceFormat.TFM_CSV,
            base="",
            line=row.line,
            findings=list(row.findings),
        )
