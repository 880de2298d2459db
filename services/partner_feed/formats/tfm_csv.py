"""The flat CSV layout of :class:`TfmRecord` (``tfm-record.v1.csv-columns.md``).

List cells are separated by ``;``; a partner is ``role|name|iati_ref`` (ref optional); a
link is ``url|title`` (title optional). Names and titles therefore cannot contain ``;`` or
``|``: the writer replaces them with ``,`` and ``/``.
"""

from __future__ import annotations

from typing import Any

from services.partner_feed.formats.tfm_model import UN_LANGUAGES, TfmRecord

LIST_SEPARATOR = ";"
PART_SEPARATOR = "|"

COLUMNS: tuple[tuple[str, str], ...] = (
    ("record_id", "record id, unique within the export"),
    ("record_type", "initiative, programme, project, capacity-building, partnership, ..."),
    ("un_entity", "short name of the owning UN entity"),
    (
        "partners",
        "`role|name|iati_ref` entries; role is funding/accountable/extending/implementing",
    ),
    *((f"title_{lang}", f"title in {lang}") for lang in UN_LANGUAGES),
    *((f"summary_{lang}", f"summary in {lang}") for lang in UN_LANGUAGES),
    ("modality", "bilateral, multilateral, regional, national or global"),
    ("sdg_goals", "goal numbers 1-17"),
    ("sdg_targets", "target codes such as 9.5 or 17.b"),
    ("countries", "ISO 3166-1 alpha-2 codes"),
    ("regional_groupings", "acronyms such as EAC, ASEAN"),
    ("status", "pipeline, ongoing, finalisation, completed, cancelled, suspended"),
    ("start_date", "YYYY-MM-DD"),
    ("end_date", "YYYY-MM-DD"),
    ("gender_marker", "0, 1 or 2"),
    ("da_recommendations", "WIPO Development Agenda recommendation numbers 1-45"),
    ("links", "`url|title` entries"),
    ("last_modified", "ISO 8601 date-time with offset"),
)
HEADER = tuple(name for name, _ in COLUMNS)
_LISTS = ("sdg_goals", "sdg_targets", "countries", "regional_groupings", "da_recommendations")


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(LIST_SEPARATOR) if part.strip()]


def _clean(text: str) -> str:
    return text.replace(LIST_SEPARATOR, ",").replace(PART_SEPARATOR, "/")


def row_to_data(cells: dict[str, str]) -> dict[str, Any]:
    """The JSON-shaped dict of one row, for :class:`TfmRecord` validation."""
    data: dict[str, Any] = {}
    for name in ("record_id", "record_type", "un_entity", "modality", "status"):
        if cells.get(name, "").strip():
            data[name] = cells[name].strip()
    for name in ("start_date", "end_date", "gender_marker", "last_modified"):
        if cells.get(name, "").strip():
            data[name] = cells[name].strip()
    for name in _LISTS:
        data[name] = _split(cells.get(name, ""))
    data["titles"] = {
        lang: v.strip() for lang in UN_LANGUAGES if (v := cells.get(f"title_{lang}", "")).strip()
    }
    data["summaries"] = {
        lang: v.strip() for lang in UN_LANGUAGES if (v := cells.get(f"summary_{lang}", "")).strip()
    }
    partners = []
    for entry in _split(cells.get("partners", "")):
        role, _, rest = entry.partition(PART_SEPARATOR)
        name, _, ref = rest.partition(PART_SEPARATOR)
        partners.append(
            {"role": role.strip(), "name": name.strip(), "iati_ref": ref.strip() or None}
        )
    data["partners"] = partners
    links = []
    for entry in _split(cells.get("links", "")):
        url, _, title = entry.partition(PART_SEPARATOR)
        links.append({"url": url.strip(), "title": title.strip() or None})
    data["links"] = links
    return data


def record_to_row(record: TfmRecord) -> list[str]:
    """One CSV row (cells in :data:`HEADER` order, not yet neutralised)."""
    partners = LIST_SEPARATOR.join(
        PART_SEPARATOR.join((p.role, _clean(p.name), p.iati_ref or "")).rstrip(PART_SEPARATOR)
        for p in record.partners
    )
    links = LIST_SEPARATOR.join(
        PART_SEPARATOR.join((str(k.url), _clean(k.title or ""))).rstrip(PART_SEPARATOR)
        for k in record.links
    )
    cells: dict[str, str] = {
        "record_id": record.record_id,
        "record_type": record.record_type,
        "un_entity": record.un_entity,
        "partners": partners,
        "modality": record.modality or "",
        "status": record.status,
        "start_date": record.start_date.isoformat() if record.start_date else "",
        "end_date": record.end_date.isoformat() if record.end_date else "",
        "gender_marker": "" if record.gender_marker is None else str(record.gender_marker),
        "links": links,
        "last_modified": record.last_modified.isoformat(),
    }
    for name in _LISTS:
        cells[name] = LIST_SEPARATOR.join(str(v) for v in getattr(record, name))
    for lang in UN_LANGUAGES:
        cells[f"title_{lang}"] = record.titles.get(lang, "")
        cells[f"summary_{lang}"] = record.summaries.get(lang, "")
    return [cells[name] for name in HEADER]
