"""Change detection: a partner record against what the previous import left.

A record is new (never seen), changed (its content hash moved), unchanged, or a duplicate
(its id already appeared earlier in the same import: the later one is quarantined).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import orjson

from services.partner_feed.db.records import StoredRecord
from services.partner_feed.formats import PartnerRecord

Kind = Literal["new", "changed", "unchanged", "duplicate"]
_IGNORED = frozenset({"content_hash", "last_updated", "source_format"})


@dataclass(frozen=True, slots=True)
class Change:
    kind: Kind
    record: PartnerRecord
    document: dict[str, Any]
    changed_fields: tuple[str, ...] = ()

    def record_json(self) -> str:
        return orjson.dumps(self.document).decode()


def classify(record: PartnerRecord, stored: StoredRecord | None, import_id: str) -> Change:
    document = record.model_dump(mode="json")
    if stored is None:
        return Change("new", record, document)
    if stored.last_import == import_id:
        return Change("duplicate", record, document)
    if stored.content_hash == record.content_hash:
        return Change("unchanged", record, document)
    return Change(
        "changed", record, document, changed_fields(orjson.loads(stored.record), document)
    )


def changed_fields(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, ...]:
    """Top-level fields whose value differs (content fields only)."""
    names = (set(old) | set(new)) - _IGNORED
    return tuple(sorted(n for n in names if old.get(n) != new.get(n)))
