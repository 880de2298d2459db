"""The pipeline half of `tools.bench_ingest`: one partner-feed import of a file, twice
(all new, then all unchanged), on a fresh SQLite store, events built and discarded (as
before the staged pipeline, so figures compare). A thread samples the process's RSS every half
second: `rss_quarters_mb` is the highest RSS seen in each quarter of the run."""

from __future__ import annotations

import asyncio
import io
import threading
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
from tools.bench_ingest import cpu_seconds


async def _discard(items: Sequence[Outgoing]) -> None:
    return None


def _rss_now_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class _RssSampler:
    def __init__(self, every: float = 0.5) -> None:
        self.samples: list[float] = []
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self.samples.append(_rss_now_mb())

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def quarters(self) -> list[float]:
        n = len(self.samples)
        if n < 4:
            return [max(self.samples, default=0.0)] * 4
        return [max(self.samples[i * n // 4 : (i + 1) * n // 4]) for i in range(4)]


async def _run(path: Path, workdir: Path, size: int, phases: int) -> dict[str, Any]:
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
    results: dict[str, Any] = {}
    try:
        for phase in ("first", "again")[:phases]:
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
            started, cpu = time.perf_counter(), cpu_seconds()
            summary = await pipeline.run(
                ImportJob(import_id, partner, SourceFormat.IATI_XML, "bench", path)
            )
            results[phase] = {
                "seconds": time.perf_counter() - started,
                "cpu": cpu_seconds() - cpu,
                "records": summary["counts"]["records"],
                "counts": summary["counts"],
            }
    finally:
        await store.close()
        await feed.close()
    return results


def run_pipeline(
    path: Path, workdir: Path, *, rss: Callable[[], float], phases: int = 2
) -> dict[str, Any]:
    db_path = workdir / "bench-ingest.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    with _RssSampler() as sampler:
        done = asyncio.run(_run(path, workdir, path.stat().st_size, phases))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    return {**done, "rss_mb": rss(), "rss_quarters_mb": sampler.quarters()}
