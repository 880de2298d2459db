"""Rows of a bulk import (JSON lines or CSV) turned into activity documents.

CSV columns (one activity a row; lists separated by `;`):
  title_<lang>, description_<lang> (lang: ar zh en fr ru es), category, stage, status,
  countries, regional_communities, lead_unit_kind, lead_unit_name, lead_unit_code, modality,
  planned_start, planned_end, actual_start, actual_end, da_recommendations, gender_marker,
  sdg_goals, sdg_targets, partners (`name|kind|role[|ref]` each), iati_identifiers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import orjson

from shared import Fault
from shared.domain import UN_LANGUAGES

SIMPLE = ("category", "stage", "status", "modality")
DATES = ("planned_start", "planned_end", "actual_start", "actual_end")
COLUMNS = frozenset(
    [f"title_{lang}" for lang in UN_LANGUAGES]
    + [f"description_{lang}" for lang in UN_LANGUAGES]
    + list(SIMPLE)
    + list(DATES)
    + [
        "countries",
        "regional_communities",
        "lead_unit_kind",
        "lead_unit_name",
        "lead_unit_code",
        "da_recommendations",
        "gender_marker",
        "sdg_goals",
        "sdg_targets",
        "partners",
        "iati_identifiers",
    ]
)

Row = tuple[int, dict[str, Any] | None, list[Fault]]


def json_lines(body: bytes) -> Iterator[Row]:
    """(line number, document or None, faults) for each non-blank line."""
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            document = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield number, None, [Fault("", f"not JSON: {exc.msg}")]
            continue
        if not isinstance(document, dict):
            yield number, None, [Fault("", "each line must be a JSON object")]
            continue
        yield number, document, []


def csv_rows(body: bytes) -> Iterator[Row]:
    """(row number counting the header as 1, document or None, faults) for each row."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield 0, None, [Fault("", f"not UTF-8 at byte {exc.start}")]
        return
    reader = csv.DictReader(io.StringIO(text, newline=""))
    unknown = sorted(set(reader.fieldnames or ()) - COLUMNS)
    if unknown:
        yield 1, None, [Fault(f"/columns/{name}", "unknown column") for name in unknown]
        return
    for number, record in enumerate(reader, start=2):
        yield number, _document(record), []


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def _document(record: dict[str, str | None]) -> dict[str, Any]:
    def get(name: str) -> str:
        return (record.get(name) or "").strip()

    doc: dict[str, Any] = {
        "title": {lang: get(f"title_{lang}") for lang in UN_LANGUAGES if get(f"title_{lang}")},
        "description": {
            lang: get(f"description_{lang}") for lang in UN_LANGUAGES if get(f"description_{lang}")
        },
        "beneficiaries": [{"country": c.upper()} for c in _split(record.get("countries"))],
        "regional_communities": [c.upper() for c in _split(record.get("regional_communities"))],
        "lead_unit": {"kind": get("lead_unit_kind"), "name": get("lead_unit_name")},
        "da_recommendations": _split(record.get("da_recommendations")),
        "sdg": {
            "goals": _split(record.get("sdg_goals")),
            "targets": _split(record.get("sdg_targets")),
        },
        "partners": [_partner(p) for p in _split(record.get("partners"))],
        "external_refs": {"iati_identifiers": _split(record.get("iati_identifiers"))},
        "dates": {name: get(name) for name in DATES if get(name)},
    }
    if get("lead_unit_code"):
        doc["lead_unit"]["code"] = get("lead_unit_code")
    for name in SIMPLE:
        if get(name):
            doc[name] = get(name)
    if get("gender_marker"):
        doc["gender_marker"] = get("gender_marker")
    return doc


def _partner(text: str) -> dict[str, str]:
    parts = [p.strip() for p in text.split("|")]
    partner = dict(zip(("name", "kind", "role", "ref"), parts, strict=False))
    return partner
