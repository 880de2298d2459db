"""Outbound TFM feeds: :class:`FeedActivity` → :class:`TfmRecord` → JSON or CSV chunks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import orjson

from services.partner_feed.formats.csv_cells import csv_bytes
from services.partner_feed.formats.feed_activity import FeedActivity
from services.partner_feed.formats.tfm_csv import HEADER, record_to_row
from services.partner_feed.formats.tfm_model import STATUS_CODES, TfmPartner, TfmRecord

_STATUS_NAMES = {code: name for name, code in STATUS_CODES.items()}
_ROLE_NAMES = {"1": "funding", "2": "accountable", "3": "extending", "4": "implementing"}


def to_tfm(
    activity: FeedActivity, *, un_entity: str = "WIPO", record_type: str = "project"
) -> TfmRecord:
    """The TFM view of one activity (actual dates preferred over planned ones)."""
    return TfmRecord.model_validate(
        {
            "record_id": activity.identifier,
            "record_type": record_type,
            "un_entity": un_entity,
            "partners": [
                TfmPartner(
                    name=next(iter(p.name.values()), p.ref or "unnamed"),
                    role=_ROLE_NAMES[p.role],  # type: ignore[arg-type]
                    iati_ref=p.ref,
                )
                for p in activity.participating_orgs
            ],
            "titles": activity.titles,
            "summaries": activity.descriptions,
            "sdg_goals": [int(g) for g in activity.sdg_goals],
            "sdg_targets": activity.sdg_targets,
            "countries": [c.code for c in activity.recipient_countries],
            "regional_groupings": activity.regional_communities,
            "status": _STATUS_NAMES[activity.status],
            "start_date": activity.actual_start or activity.planned_start,
            "end_date": activity.actual_end or activity.planned_end,
            "gender_marker": activity.gender_marker,
            "da_recommendations": activity.da_recommendations,
            "last_modified": activity.last_updated,
        }
    )


def write_tfm_json(records: Iterable[TfmRecord]) -> Iterator[bytes]:
    """A JSON array, one chunk per record; memory bounded by one record."""
    yield b"["
    for i, record in enumerate(records):
        yield (b",\n" if i else b"\n") + tfm_json_item(record)
    yield b"\n]\n"


def tfm_json_item(record: TfmRecord) -> bytes:
    """One record as compact JSON (no separator), for callers that stream themselves."""
    return orjson.dumps(record.model_dump(mode="json", exclude_none=True))


def tfm_csv_row(record: TfmRecord) -> bytes:
    """One CSV line for ``record`` (the header is ``tfm_csv_header()``)."""
    return b"".join(csv_bytes([record_to_row(record)]))


def tfm_csv_header() -> bytes:
    return b"".join(csv_bytes([HEADER]))


def write_tfm_csv(records: Iterable[TfmRecord]) -> Iterator[bytes]:
    """UTF-8 CSV with the v1 header; every cell neutralised against formula injection."""
    yield from csv_bytes([HEADER])
    for record in records:
        yield from csv_bytes([record_to_row(record)])
