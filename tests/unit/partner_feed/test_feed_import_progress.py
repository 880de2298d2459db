"""The import's row shows its progress while it runs: records and bytes read, events out."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.partner_feed.db.database import Store
from services.partner_feed.db.imports import ImportTable, read_import
from services.partner_feed.formats import SourceFormat
from services.partner_feed.partners import PartnerSource
from services.partner_feed.pipeline import ImportJob, ImportPipeline, PipelineDeps
from shared import Outgoing, configure_logging

pytestmark = pytest.mark.timeout(60)

UNOPS = Path(__file__).resolve().parents[3].parent / "shared/data/iati/publishers/unops_1.xml"


async def test_a_running_import_shows_records_and_bytes_read(tmp_path: Path) -> None:
    reached, release = asyncio.Event(), asyncio.Event()
    sent: list[Outgoing] = []

    async def publish(items: Sequence[Outgoing]) -> None:
        reached.set()
        await release.wait()  # the broker is slow: the import is caught mid-publication
        sent.extend(items)

    db_path = str(tmp_path / "feed.db")
    store, feed = await Store.open(db_path), await Store.open(db_path)
    pipeline = ImportPipeline(
        PipelineDeps(
            store=store,
            feed_store=feed,
            publish=publish,
            clock=lambda: datetime.now(UTC),
            logger=configure_logging("test", "WARNING", stream=io.StringIO()),
        )
    )
    size = UNOPS.stat().st_size
    await ImportTable(store.db).create(
        import_id="imp-1",
        partner="unops",
        source_format="iati-xml",
        channel="test",
        received_at=datetime.now(UTC).isoformat(),
        size=size,
    )
    await store.db.commit()
    job = ImportJob("imp-1", PartnerSource(id="unops"), SourceFormat.IATI_XML, "test", UNOPS)
    try:
        task = asyncio.create_task(pipeline.run(job))
        await asyncio.wait_for(reached.wait(), 30)
        async with store.reader() as db:
            running = await read_import(db, "imp-1")
        assert running is not None and running["status"] == "running"
        assert running["progress"] == {
            "phase": "publishing",
            "records": 3,
            "bytes": size,
            "bytes_total": size,
            "published": 0,
        }
        assert sent == []
        release.set()
        summary = await asyncio.wait_for(task, 30)
        assert summary["status"] == "completed" and len(sent) == 3
        async with store.reader() as db:
            done = await read_import(db, "imp-1")
        assert done is not None and done["progress"]["phase"] == "done"
        assert done["progress"]["published"] == 3
    finally:
        await store.close()
        await feed.close()
