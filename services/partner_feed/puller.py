"""Pulling a partner's export with a conditional GET (ETag / Last-Modified).

A 304 costs nothing and emits nothing. A 200 body is spooled under the upload limit and
imported like an upload; the validators are saved only after that import finished, so a
failed import is retried in full on the next pull.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from structlog.typing import FilteringBoundLogger

from services.partner_feed.db.database import Store
from services.partner_feed.db.imports import read_import
from services.partner_feed.db.pull_state import PullState, PullStateTable
from services.partner_feed.imports import ImportRunner
from services.partner_feed.metrics import FeedMetrics
from services.partner_feed.partners import PartnerSource
from services.partner_feed.spool import spool
from shared import ProblemError


@dataclass(frozen=True, slots=True)
class PullOutcome:
    partner: str
    outcome: str
    """imported, not_modified or failed"""
    import_id: str | None = None
    status: int | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "partner": self.partner,
            "outcome": self.outcome,
            "import_id": self.import_id,
            "http_status": self.status,
            "error": self.error,
        }


class Puller:
    def __init__(
        self,
        *,
        session: aiohttp.ClientSession,
        store: Store,
        imports: ImportRunner,
        clock: Callable[[], datetime],
        logger: FilteringBoundLogger,
        metrics: FeedMetrics,
        limit: int,
        spool_dir: str | None,
    ) -> None:
        self._session = session
        self._store = store
        self._imports = imports
        self._clock = clock
        self._log = logger
        self._metrics = metrics
        self._limit = limit
        self._spool_dir = spool_dir
        self._locks: dict[str, asyncio.Lock] = {}

    async def pull(self, partner: PartnerSource) -> PullOutcome:
        """Pull once (one pull per partner at a time); waits for the import to finish."""
        async with self._locks.setdefault(partner.id, asyncio.Lock()):
            outcome = await self._pull(partner)
        self._metrics.pulls.labels(partner.id, outcome.outcome).inc()
        self._log.info("pulled", **outcome.as_json())
        return outcome

    async def _pull(self, partner: PartnerSource) -> PullOutcome:
        assert partner.url is not None
        table = PullStateTable(self._store.db)
        previous = await table.get(partner.id)
        headers = {"Accept-Encoding": "gzip"}
        if previous and previous.etag:
            headers["If-None-Match"] = previous.etag
        if previous and previous.last_modified:
            headers["If-Modified-Since"] = previous.last_modified
        try:
            async with self._session.get(partner.url, headers=headers) as response:
                if response.status == 304:
                    await self._save(partner.id, previous, "not_modified")
                    return PullOutcome(partner.id, "not_modified", status=304)
                if response.status != 200:
                    await self._save(partner.id, previous, f"http_{response.status}")
                    return PullOutcome(partner.id, "failed", status=response.status)
                path, size = await spool(
                    response.content.iter_chunked(64 * 1024),
                    limit=self._limit,
                    directory=self._spool_dir,
                )
                etag = response.headers.get("ETag")
                last_modified = response.headers.get("Last-Modified")
        except (aiohttp.ClientError, TimeoutError, ProblemError) as exc:
            await self._save(partner.id, previous, "unreachable")
            return PullOutcome(partner.id, "failed", error=f"{type(exc).__name__}: {exc}")
        import_id = await self._imports.submit(
            partner=partner,
            source_format=partner.source_format(),
            channel="pull",
            path=path,
            size=size,
        )
        await self._imports.wait(import_id)
        async with self._store.reader() as db:
            found = await read_import(db, import_id)
        status = found["status"] if found else "unknown"
        if status != "completed":
            # Keep the old validators: the same file is fetched and tried again next time.
            await self._save(partner.id, previous, f"import_{status}")
            return PullOutcome(partner.id, "failed", import_id=import_id, status=200)
        now = self._clock().isoformat()
        await self._save_state(partner.id, PullState(etag, last_modified, now, "imported"))
        return PullOutcome(partner.id, "imported", import_id=import_id, status=200)

    async def _save(self, partner: str, previous: PullState | None, outcome: str) -> None:
        now = self._clock().isoformat()
        etag = previous.etag if previous else None
        modified = previous.last_modified if previous else None
        await self._save_state(partner, PullState(etag, modified, now, outcome))

    async def _save_state(self, partner: str, state: PullState) -> None:
        async with self._store.lock:
            await PullStateTable(self._store.db).save(partner, state)
            await self._store.db.commit()
