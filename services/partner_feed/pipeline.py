"""One import, end to end, in two phases.

1. **Stage** (while parsing, in a worker thread): each batch of verdicts is checked against
   the partner's previous records and written to the import's staging table with the
   report entries. Nothing is published and `partner_records` is not touched, so an input
   that turns out truncated or broken halfway publishes nothing at all.
2. **Publish** (only once the file was read to the end without a fatal fault): the staged
   new and changed records are published and applied batch by batch, links included (see
   `publication.py`); then the removals, unless the removal guard holds them for an
   operator (`status: held`), who applies or discards them later (`decide`).

Records quarantined in this import still count as sent: they are never removed for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

from structlog.typing import FilteringBoundLogger

from services.partner_feed.changes import classify, staged
from services.partner_feed.db.database import Store
from services.partner_feed.db.feed import iter_states
from services.partner_feed.db.imports import ImportTable, read_import
from services.partner_feed.db.records import RecordTable
from services.partner_feed.db.staging import ACCEPTED, StagedRow, StagingTable
from services.partner_feed.formats import IngestRun, Limits, SourceFormat, ingest
from services.partner_feed.linking import Linker
from services.partner_feed.metrics import FeedMetrics
from services.partner_feed.outcome_stream import OutcomeStream
from services.partner_feed.partners import PartnerSource
from services.partner_feed.progress import ImportProgress
from services.partner_feed.publication import Publication, Publish, RemovalGuard
from services.partner_feed.reconciliation import Matcher
from services.partner_feed.report import ReportBuilder, event_findings
from services.partner_feed.validation import RecordOutcome
from shared.domain import Activity
from shared.events import PARTNER_RECORDS, namespaced

Decision = Literal["apply", "discard"]


class NotHeld(Exception):
    """The import has no removals waiting for a decision (finished, superseded, unknown)."""


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
    removal_guard: RemovalGuard = field(default_factory=RemovalGuard)


class ImportPipeline:
    def __init__(self, deps: PipelineDeps) -> None:
        self._d = deps
        self._topic = namespaced(PARTNER_RECORDS, deps.namespace)

    async def _matcher(self) -> Matcher:
        async with self._d.feed_store.reader() as db:
            activities = [Activity.model_validate_json(s) async for s in iter_states(db)]
        return Matcher(activities, threshold=self._d.match_threshold)

    def _publication(self, partner: str, import_id: str, progress: ImportProgress) -> Publication:
        return Publication(
            store=self._d.store,
            publish=self._d.publish,
            topic=self._topic,
            partner=partner,
            import_id=import_id,
            progress=progress,
        )

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

        progress = ImportProgress(bytes_total=job.path.stat().st_size)
        stream = OutcomeStream(start, job.path, progress=progress)
        report = ReportBuilder(job.import_id, d.report_max_entries)
        async for batch in stream.batches():
            await self._stage(job, batch, report, progress)
        ingest_report = stream.report
        report.absorb(ingest_report)
        if ingest_report.fatal is None:
            progress.phase = "publishing"
            await self._begin_publication(job, progress)
            publication = self._publication(partner.id, job.import_id, progress)
            existing = await publication.existing()
            linker = Linker(partner.id, job.import_id, await self._matcher(), d.namespace)
            report.linked(await publication.changes(linker))
            removed, held = await publication.guarded_removals(d.removal_guard, existing)
            report.removed(removed)
            if held is not None:
                report.hold(held)
        progress.phase = "done"
        summary = report.summary()
        async with d.store.lock:
            if summary["status"] != "held":
                await StagingTable(d.store.db).clear(job.import_id)
            await ImportTable(d.store.db).progress(job.import_id, progress.as_json())
            await ImportTable(d.store.db).finish(
                job.import_id,
                status=summary["status"],
                finished_at=d.clock().isoformat(),
                summary=summary,
            )
            await d.store.db.commit()
        self._observe(job, summary, time.perf_counter() - started)
        return summary

    async def _stage(
        self,
        job: ImportJob,
        batch: list[RecordOutcome],
        report: ReportBuilder,
        progress: ImportProgress,
    ) -> None:
        d, partner_id, import_id = self._d, job.partner.id, job.import_id
        db = d.store.db
        ids = [o.record.record_id for o in batch if o.record is not None]
        records, staging = RecordTable(db), StagingTable(db)
        stored = await records.hashes(partner_id, ids)
        earlier = await staging.kinds(import_id, ids)
        rows: list[StagedRow] = []
        accepted: set[str] = set()
        previous: dict[str, str] = {}
        changed = [
            o.record.record_id
            for o in batch
            if o.accepted and o.record is not None and o.record.record_id in stored
            and stored[o.record.record_id] != o.record.content_hash
        ]  # fmt: skip
        if changed:
            previous = await records.documents(partner_id, changed)
        for outcome in batch:
            record = outcome.record
            if not outcome.accepted or record is None:
                report.quarantined(outcome)
                if record is not None:  # still sent by the partner: not a removal
                    rows.append(StagedRow(record.record_id, "quarantined"))
                continue
            rid = record.record_id
            if rid in accepted or earlier.get(rid) in ACCEPTED:
                report.duplicate(outcome)
                continue
            accepted.add(rid)
            kind = classify(record, stored.get(rid))
            report.accepted(outcome, kind)
            rows.append(staged(record, kind, previous.get(rid), event_findings(outcome.findings)))
        progress.records += len(batch)
        async with d.store.lock:
            await staging.stage(import_id, progress.records - len(batch) + 1, rows)
            await ImportTable(db).add_entries(import_id, report.take_entries())
            await ImportTable(db).progress(import_id, progress.as_json())
            await db.commit()

    async def _begin_publication(self, job: ImportJob, progress: ImportProgress) -> None:
        """Say so in the progress; and since this import now replaces the partner's records,
        the removals earlier imports held are moot (superseded)."""
        d = self._d
        async with d.store.lock:
            table, staging = ImportTable(d.store.db), StagingTable(d.store.db)
            await table.progress(job.import_id, progress.as_json())
            for held_id, summary in await table.held_by(job.partner.id):
                summary["status"] = "completed"
                summary["held_removals"] = {**summary["held_removals"], "decision": "superseded"}
                await table.resolve(held_id, summary)
                await staging.clear(held_id)
            await d.store.db.commit()

    async def decide(self, import_id: str, partner: str, decision: Decision) -> dict[str, Any]:
        """Apply or discard an import's held removals; returns the updated summary.

        Raises :class:`NotHeld` when the import has no removals waiting (the caller holds
        the partner's import lock, so no other import of the partner runs meanwhile).
        """
        d = self._d
        async with d.store.reader() as db:
            found = await read_import(db, import_id)
        if found is None or found["partner"] != partner or found["status"] != "held":
            raise NotHeld(import_id)
        progress = ImportProgress(bytes_total=int(found["bytes"]), phase="publishing")
        removed = 0
        if decision == "apply":
            removed = await self._publication(partner, import_id, progress).removals()
        summary = {k: found[k] for k in ("counts", "finding_counts", "fatal", "entries_truncated")}
        summary["counts"] = {**summary["counts"], "removed": removed}
        summary["held_removals"] = {
            **found["held_removals"],
            "decision": "applied" if decision == "apply" else "discarded",
        }
        summary["status"] = "completed"
        async with d.store.lock:
            await StagingTable(d.store.db).clear(import_id)
            await ImportTable(d.store.db).resolve(import_id, summary)
            await d.store.db.commit()
        if d.metrics is not None and removed:
            d.metrics.records.labels(partner, "removed").inc(removed)
        return summary

    def _observe(self, job: ImportJob, summary: dict[str, Any], seconds: float) -> None:
        metrics, partner = self._d.metrics, job.partner.id
        if metrics is None:
            return
        metrics.imports.labels(partner, job.channel, summary["status"]).inc()
        for outcome, n in summary["counts"].items():
            if outcome in {"new", "changed", "unchanged", "quarantined", "removed"} and n:
                metrics.records.labels(partner, outcome).inc(n)
        metrics.import_seconds.labels(partner).observe(seconds)
