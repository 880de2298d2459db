"""Publishing an import once its whole file was read: staged changes, then removals.

Per batch, the events are published (and acknowledged) before the batch is applied to
`partner_records` and committed, so a crash re-detects, and re-emits, rather than loses a
change. Removals pass the removal guard first: an import that would remove more than
`RemovalGuard.share` of the partner's records has them held for an operator instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from services.partner_feed.db.database import Store
from services.partner_feed.db.imports import ImportTable
from services.partner_feed.db.records import RecordTable
from services.partner_feed.db.staging import StagedChange, StagingTable
from services.partner_feed.formats import PartnerRecord
from services.partner_feed.linking import Linker
from services.partner_feed.progress import ImportProgress
from shared import Outgoing
from shared.events import PartnerRecordChanged, PartnerRecordNew, PartnerRecordRemoved

Publish = Callable[[Sequence[Outgoing]], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class RemovalGuard:
    """Hold an import's removals when they pass `share` of the partner's records."""

    share: float = 0.5

    def holds(self, removals: int, existing: int) -> bool:
        return removals > 0 and removals > self.share * existing


def _record(document: dict[str, Any]) -> PartnerRecord:
    return PartnerRecord.model_validate({k: v for k, v in document.items() if k != "content_hash"})


class Publication:
    """One import's publication; `store.lock` is taken per batch."""

    def __init__(
        self,
        *,
        store: Store,
        publish: Publish,
        topic: str,
        partner: str,
        import_id: str,
        progress: ImportProgress,
        batch: int = 500,
    ) -> None:
        self._store = store
        self._publish = publish
        self._topic = topic
        self._partner = partner
        self._import_id = import_id
        self._progress = progress
        self._batch = batch

    def _event(self, row: StagedChange, document: dict[str, Any]) -> Outgoing:
        common: dict[str, Any] = {
            "partner": self._partner,
            "record_id": row.record_id,
            "import_id": self._import_id,
            "content_hash": row.content_hash,
            "record": document,
            "findings": row.findings,
        }
        event: PartnerRecordNew | PartnerRecordChanged
        if row.kind == "new":
            event = PartnerRecordNew(**common)
        else:
            event = PartnerRecordChanged(**common, changed_fields=list(row.changed_fields))
        return Outgoing(self._topic, event)

    async def _commit(self) -> None:
        db = self._store.db
        await ImportTable(db).progress(self._import_id, self._progress.as_json())
        await db.commit()

    async def changes(self, linker: Linker) -> int:
        """Publish and apply every staged new or changed record; returns links emitted."""
        db, staging, linked, after = self._store.db, StagingTable(self._store.db), 0, 0
        while True:
            async with self._store.lock:
                rows = await staging.changes(self._import_id, after, self._batch)
                if not rows:
                    await staging.touch_mentioned(self._partner, self._import_id)
                    await self._commit()
                    return linked
                documents = [orjson.loads(r.record) for r in rows]
                outgoing = [self._event(r, d) for r, d in zip(rows, documents, strict=True)]
                records = [_record(d) for d in documents] if linker.active else []
                links = await linker.link(db, records)
                outgoing += links.events
                await self._publish(outgoing)
                await staging.apply_changes(self._partner, self._import_id, after, rows[-1].seq)
                await linker.save(db, links)
                self._progress.published += len(outgoing)
                await self._commit()
            linked += len(links.events)
            after = rows[-1].seq

    async def existing(self) -> int:
        """The partner's records now: call before `changes` for the share the guard needs."""
        async with self._store.lock:
            return await StagingTable(self._store.db).existing(self._partner)

    async def guarded_removals(
        self, guard: RemovalGuard, existing: int
    ) -> tuple[int, dict[str, Any] | None]:
        """Publish the removals, or hold them: returns (records removed, the hold or None);
        a hold says how many records, of how many existing, at which share."""
        async with self._store.lock:
            removals = await StagingTable(self._store.db).count_removals(
                self._partner, self._import_id
            )
        if guard.holds(removals, existing):
            return 0, {"records": removals, "existing": existing, "share": guard.share}
        return await self.removals(), None

    async def removals(self) -> int:
        """Publish and delete every record of the partner the import did not mention."""
        db, removed = self._store.db, 0
        staging, records = StagingTable(db), RecordTable(db)
        while True:
            async with self._store.lock:
                chunk = await staging.removals(self._partner, self._import_id, self._batch)
                if not chunk:
                    return removed
                await self._publish(
                    [
                        Outgoing(
                            self._topic,
                            PartnerRecordRemoved(
                                partner=self._partner,
                                record_id=r.record_id,
                                import_id=self._import_id,
                                content_hash=r.content_hash,
                            ),
                        )
                        for r in chunk
                    ]
                )
                await records.delete(self._partner, [r.record_id for r in chunk])
                self._progress.published += len(chunk)
                await self._commit()
            removed += len(chunk)
