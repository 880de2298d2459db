"""Running imports in the background: one at a time per partner (change detection needs
the previous import finished), a few at a time overall, each a stored task that shutdown
cancels and awaits. The spooled input file is deleted when its import ends."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from structlog.typing import FilteringBoundLogger

from services.partner_feed.db.database import Store
from services.partner_feed.db.imports import ImportTable
from services.partner_feed.db.staging import StagingTable
from services.partner_feed.formats import SourceFormat
from services.partner_feed.partners import PartnerSource
from services.partner_feed.pipeline import Decision, ImportJob, ImportPipeline


class ImportRunner:
    def __init__(
        self,
        *,
        pipeline: ImportPipeline,
        store: Store,
        clock: Callable[[], datetime],
        logger: FilteringBoundLogger,
        max_concurrent: int,
    ) -> None:
        self._pipeline = pipeline
        self._store = store
        self._clock = clock
        self._log = logger
        self._slots = asyncio.Semaphore(max_concurrent)
        self._partner_locks: dict[str, asyncio.Lock] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def recover(self) -> None:
        """Imports a previous process left running are marked interrupted."""
        async with self._store.lock:
            n = await ImportTable(self._store.db).interrupt_running(self._clock().isoformat())
            await StagingTable(self._store.db).clear_unheld()
            await self._store.db.commit()
        if n:
            self._log.warning("imports interrupted by a restart", count=n)

    async def submit(
        self,
        *,
        partner: PartnerSource,
        source_format: SourceFormat,
        channel: str,
        path: Path,
        size: int,
    ) -> str:
        """Record the import as running and start it; returns its id."""
        import_id = uuid.uuid4().hex
        async with self._store.lock:
            await ImportTable(self._store.db).create(
                import_id=import_id,
                partner=partner.id,
                source_format=source_format.value,
                channel=channel,
                received_at=self._clock().isoformat(),
                size=size,
            )
            await self._store.db.commit()
        job = ImportJob(import_id, partner, source_format, channel, path)
        task = asyncio.create_task(self._run(job), name=f"import:{import_id}")
        self._tasks[import_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(import_id, None))
        return import_id

    async def wait(self, import_id: str) -> None:
        task = self._tasks.get(import_id)
        if task is not None:
            await asyncio.shield(task)

    async def decide(self, import_id: str, partner: str, decision: Decision) -> dict[str, Any]:
        """Apply or discard the held removals of `import_id`, between the partner's imports.

        Raises `NotHeld` when there is nothing to decide."""
        lock = self._partner_locks.setdefault(partner, asyncio.Lock())
        async with lock:
            summary = await self._pipeline.decide(import_id, partner, decision)
        self._log.info(
            "held removals decided",
            import_id=import_id,
            partner=partner,
            decision=decision,
            removed=summary["counts"]["removed"],
        )
        return summary

    async def _run(self, job: ImportJob) -> None:
        lock = self._partner_locks.setdefault(job.partner.id, asyncio.Lock())
        log = self._log.bind(import_id=job.import_id, partner=job.partner.id)
        try:
            async with self._slots, lock:
                summary = await self._pipeline.run(job)
            log.info("import finished", status=summary["status"], **summary["counts"])
        except asyncio.CancelledError:
            await self._fail(job, "interrupted", "the service stopped during the import")
            raise
        except Exception as exc:
            log.exception("import failed")
            await self._fail(job, "error", f"internal error: {type(exc).__name__}")
        finally:
            with contextlib.suppress(OSError):
                job.path.unlink()

    async def _fail(self, job: ImportJob, status: str, message: str) -> None:
        summary = {"fatal": {"code": f"import-{status}", "message": message, "location": {}}}
        try:
            async with self._store.lock:
                await self._store.db.rollback()
                await StagingTable(self._store.db).clear(job.import_id)
                await ImportTable(self._store.db).finish(
                    job.import_id,
                    status=status,
                    finished_at=self._clock().isoformat(),
                    summary=summary,
                )
                await self._store.db.commit()
        except Exception:
            self._log.exception("could not record the import's failure", import_id=job.import_id)

    async def close(self) -> None:
        """Cancel running imports and wait for them to record that they were interrupted."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
