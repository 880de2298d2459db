"""The pipeline half of `tools.bench_ingest`: one partner-feed import of a file, twice
(all new, then all unchanged), on a fresh SQLite store, events discarded."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.partner_feed.db.database import Store
from services.partner_feed.db.imports import ImportTable
from services.partner_feed.formats import Limits, SourceFormat
from services.partner_feed.partners import PartnerSource
from services.partner_feed.pipeline import ImportJob, ImportPipeline, PipelineDeps
from shared import Outgoing, configure_logging


async def _discard(items: Sequence[Outgoing]) -> None:
    return None


async def _run(path: Path, workdir: Path, size: int) -> dict[str, Any]:
    db_path = workdir / "bench-ingest.db"
    store, feed = await Store.open(str(db_path)), await Store.open(str(db_path))
    pipeline = ImportPipeline(
        PipelineDeps(
            store=store,
            feed_store=feed,
            publish=_discard,
            clock=lambda: datetime.now(UTC),
            logger=configure_logging("bench", "WARNING", stream=io.StringIO()),
            limits=Limits(max_input_bytes=2 * 1024**3),
        )
    )
    partner = PartnerSource(id="bench")
    phases: dict[str, Any] = {}
    try:
        for phase in ("first", "again"):
            import_id = f"bench-{phase}"
            await ImportTable(store.db).create(
                import_id=import_id,
                partner=partner.id,
                source_format=SourceFormat.IATI_XML.value,
                channel="bench",
                received_at=datetime.now(UTC).isoformat(),
                size=size,
            )
            await store.db.commit()
            started = time.perf_counter()
            summary = await pipeline.run(
                ImportJob(import_id, partner, SourceFormat.IATI_XML, "bench", path)
            )
            phases[phase] = {
                "seconds": time.perf_counter() - started,
                "records": summary["counts"]["records"],
                "counts": summary["counts"],
            }
    finally:
        await store.close()
        await feed.close()
    return phases


def run_pipeline(path: Path, workdir: Path, *, rss: Callable[[], float]) -> dict[str, Any]:
    db_path = workdir / "bench-ingest.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    phases = asyncio.run(_run(path, workdir, path.stat().st_size))
    return {**phases, "rss_mb": rss()}
