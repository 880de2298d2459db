"""Turning matches into links: a `PartnerRecordLinked` event when a link is new or moved,
and the link (with its discrepancies) kept for the partner's discrepancy report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import aiosqlite

from services.partner_feed.db.links import LinkTable, StoredLink
from services.partner_feed.discrepancies import discrepancies
from services.partner_feed.formats import PartnerRecord
from services.partner_feed.reconciliation import Matcher
from shared import Outgoing
from shared.events import PARTNER_LINKS, PartnerRecordLinked, namespaced


@dataclass
class LinkBatch:
    events: list[Outgoing] = field(default_factory=list)
    saves: list[StoredLink] = field(default_factory=list)
    forgets: list[str] = field(default_factory=list)


class Linker:
    def __init__(self, partner: str, import_id: str, matcher: Matcher, namespace: str) -> None:
        self._partner = partner
        self._import_id = import_id
        self._matcher = matcher
        self._topic = namespaced(PARTNER_LINKS, namespace)

    @property
    def active(self) -> bool:
        """False when there is nothing to link to (no activities known): skip the records."""
        return len(self._matcher) > 0

    async def link(self, db: aiosqlite.Connection, records: Sequence[PartnerRecord]) -> LinkBatch:
        batch = LinkBatch()
        if not records or not len(self._matcher):
            return batch
        existing = await LinkTable(db).lookup(self._partner, [r.record_id for r in records])
        for record in records:
            match = self._matcher.match(record)
            old = existing.get(record.record_id)
            if match is None:
                if old is not None:
                    batch.forgets.append(record.record_id)
                continue
            activity_id = match.activity.activity_id
            batch.saves.append(
                StoredLink(
                    record_id=record.record_id,
                    activity_id=activity_id,
                    confidence=match.confidence,
                    method=match.method,
                    discrepancies=discrepancies(record, match.activity.activity),
                )
            )
            if old is not None and (old.activity_id, old.confidence, old.method) == (
                activity_id,
                match.confidence,
                match.method,
            ):
                continue
            batch.events.append(
                Outgoing(
                    self._topic,
                    PartnerRecordLinked(
                        partner=self._partner,
                        record_id=record.record_id,
                        activity_id=activity_id,
                        confidence=match.confidence,
                        method=match.method,
                        evidence=list(match.evidence),
                    ),
                )
            )
        return batch

    async def save(self, db: aiosqlite.Connection, batch: LinkBatch) -> None:
        table = LinkTable(db)
        if batch.saves:
            await table.save(self._partner, batch.saves)
        if batch.forgets:
            await table.forget(self._partner, batch.forgets)
