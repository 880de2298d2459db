"""Change detection: a partner record against what the previous import left.

A record is new (never seen), changed (its content hash moved) or unchanged. A record id
that already appeared earlier in the same import is a duplicate; the import's staging
table knows that, so the pipeline decides it before asking here.

Only the hashes are compared; the record's JSON is serialised (once) for a new or changed
record only, and the changed fields are worked out from the previous JSON on a change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import orjson

from services.partner_feed.db.staging import StagedRow
from services.partner_feed.formats import PartnerRecord
from shared.events.partner import RecordFinding

Kind = Literal["new", "changed", "unchanged"]
_IGNORED = frozenset({"content_hash", "last_updated", "source_format"})


def classify(record: PartnerRecord, stored_hash: str | None) -> Kind:
    if stored_hash is None:
        return "new"
    return "unchanged" if stored_hash == record.content_hash else "changed"


def staged(
    record: PartnerRecord,
    kind: Kind,
    previous_json: str | None = None,
    findings: Sequence[RecordFinding] = (),
) -> StagedRow:
    """The staging row of an accepted record; `previous_json` is needed for `changed`."""
    if kind == "unchanged":
        return StagedRow(record.record_id, kind)
    document = record.model_dump_json()
    fields: tuple[str, ...] = ()
    if kind == "changed" and previous_json is not None:
        fields = changed_fields(orjson.loads(previous_json), orjson.loads(document))
    found = (
        orjson.dumps([f.model_dump(mode="json") for f in findings]).decode() if findings else None
    )
    return StagedRow(record.record_id, kind, record.content_hash, document, fields, found)


def changed_fields(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, ...]:
    """Top-level fields whose value differs (content fields only)."""
    names = (set(old) | set(new)) - _IGNORED
    return tuple(sorted(n for n in names if old.get(n) != new.get(n)))
