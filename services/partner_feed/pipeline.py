"""One import, end to end: parse and validate (worker thread), detect changes against the
partner's previous import, link to activities, emit `partner.record.*` events, keep the
report.

Per batch of records the events are published (and acknowledged) before the store is
updated, so a crash re-detects, and re-emits, rather than loses a change. Removals are
only detected after an import that read its input to the end without a fatal fault: a
truncated file never removes the records it failed to reach.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from structlog.typing import FilteringBoundLogger

from services.partner_feed.changes import classify
from services.partner_feed.db.database import Store
from services.partner_feed.db.feed import iter_states
from services.partner_feed.db.imports import ImportTable
from services.partner_feed.db.records import RecordTable, RecordWrite
from services.partner_feed.formats import IngestRun, Limits, SourceFormat, ingest
from services.partner_feed.linking import Linker
from services.partner_feed.metrics import FeedMetrics
from services.partner_feed.outcome_stream import OutcomeStream
from services.partner_feed.partners import PartnerSource
from services.partner_feed.reconciliation import Matcher
from services.partner_feed.report import ReportBuilder, event_findings
from services.partner_feed.validation import RecordOutcome
from shared import Outgoing
from shared.domain import Activity
from shared.events import (
    PARTNER_RECORDS,
    PartnerRecordChanged,
    PartnerRecordNew,
    PartnerRecordRemoved,
    namespaced,
)

Publish = Callable[[Sequence[Outgoing]], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class ImportJob:
    import_id: str
    partner: PartnerSource
    source_format: SourceFormat
    channel: str
    path: Path


@dataclass
class PipelineDeps:
    store: Store
    feed_store: Store
    publish: Publish
    clock: Callable[[], datetime]
    logger: FilteringBoundLogger
    namespace: str = ""
    limits: Limits = field(default_factory=Limits)
    report_max_entries: int = 10_000
    match_threshold: float = 0.7
    metrics: FeedMetrics | None = None


class ImportPipeline:
    def __init__(self, deps: PipelineDeps) -> None:
        self._d = deps
        self._topic = namespaced(PARTNER_RECORDS, deps.namespace)

    async def _matcher(self) -> Matcher:
        async with self._d.feed_store.reader() as db:
            activities = [Activity.model_validate_json(s) async for s in iter_states(db)]
        return Matcher(activities, threshold=self._d.match_threshold)

    async def run(self, job: ImportJob) -> dict[str, Any]:
        """Run the import and store its summary; returns the summary.

        Raises only on infrastructure failure (store, broker); bad input ends in the report.
        """
        d, partner = self._d, job.partner
        started = time.perf_counter()
        today = d.clock().date()
        mapping = partner.regional_mapping()

        def start(body: BinaryIO) -> IngestRun:
            return ingest(
                body,
                source_format=job.source_format,
                partner_id=partner.id,
                today=today,
                limits=d.limits,
                regional_mapping=mapping,
                policy=partner.quarantine,
            )

        stream = OutcomeStream(start, job.path)
        report = ReportBuilder(job.import_id, d.report_max_entries)
        linker = Linker(partner.id, job.import_id, await self._matcher(), d.namespace)
        async for batch in stream.batches():
            await self._batch(job, batch, report, linker)
        ingest_report = stream.report
        report.absorb(ingest_report)
        if ingest_report.fatal is None:
            await self._removals(job, report)
        summary = report.summary()
        async with d.store.lock:
            await ImportTable(d.store.db).finish(
                job.import_id,
                status=summary["status"],
                finished_at=d.clock().isoformat(),
                summary=summary,
            )
            await d.store.db.commit()
        if d.metrics is not None:
            d.metrics.imports.labels(partner.id, job.channel, summary["status"]).inc()
            for outcome, n in summary["counts"].items():
                if outcome in {"new", "changed", "unchanged", "quarantined", "removed"} and n:
                    d.metrics.records.labels(partner.id, outcome).inc(n)
            d.metrics.import_seconds.labels(partner.id).observe(time.perf_counter() - started)
        return summary

    async def _batch(
        self, job: ImportJob, batch: list[RecordOutcome], report: ReportBuilder, linker: Linker
    ) -> None:
        d, partner_id, import_id = self._d, job.partner.id, job.import_id
        db = d.store.db
        records = RecordTable(db)
        ids = [o.record.record_id for o in batch if o.record is not None]
        stored = await records.lookup(partner_id, ids)
        outgoing: list[Outgoing] = []
        writes: list[RecordWrite] = []
        touched: list[str] = []
        seen: set[str] = set()
        changed = []
        for outcome in batch:
            record = outcome.record
            if not outcome.accepted or record is None:
                report.quarantined(outcome)
                if record is not None and record.record_id in stored:
                    touched.append(record.record_id)  # still published: not a removal
                continue
            change = classify(record, stored.get(record.record_id), import_id)
            if change.kind == "duplicate" or record.record_id in seen:
                report.duplicate(outcome)
                continue
            seen.add(record.record_id)
            report.accepted(outcome, change.kind)
            if change.kind == "unchanged":
                touched.append(record.record_id)
                continue
            changed.append(change)
            writes.append(RecordWrite(record.record_id, record.content_hash, change.record_json()))
            common: dict[str, Any] = {
                "partner": partner_id,
                "record_id": record.record_id,
                "import_id": import_id,
                "content_hash": record.content_hash,
                "record": change.document,
                "findings": event_findings(outcome.findings),
            }
            event: PartnerRecordNew | PartnerRecordChanged
            if change.kind == "new":
                event = PartnerRecordNew(**common)
            else:
                event = PartnerRecordChanged(**common, changed_fields=list(change.changed_fields))
            outgoing.append(Outgoing(self._topic, event))
        async with d.store.lock:
            links = await linker.link(db, [c.record for c in changed])
            outgoing += links.events
            if outgoing:
                await d.publish(outgoing)
            await records.upsert(partner_id, import_id, writes)
            await records.touch(partner_id, import_id, touched)
            await linker.save(db, links)
            await ImportTable(db).add_entries(import_id, report.take_entries())
            await db.commit()
        report.linked(len(links.events))

    async def _removals(self, job: ImportJob, report: ReportBuilder) -> None:
        d, partner_id = self._d, job.partner.id
        records = RecordTable(d.store.db)
        async with d.store.lock:
            absent = await records.absent_from(partner_id, job.import_id)
            for start in range(0, len(absent), 500):
                chunk = absent[start : start + 500]
                await d.publish(
                    [
                        Outgoing(
                            self._topic,
                            PartnerRecordRemoved(
                                partner=partner_id,
                                record_id=r.record_id,
                                import_id=job.import_id,
                                content_hash=r.content_hash,
                            ),
                        )
                        for r in chunk
                    ]
                )
                await records.delete(partner_id, [r.record_id for r in chunk])
                await d.store.db.commit()
        report.removed(len(absent))
