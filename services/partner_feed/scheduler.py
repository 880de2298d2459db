"""The pull schedule: one stored task per partner with a URL, pulling at start and then
every `interval_seconds` until the service stops."""

from __future__ import annotations

import asyncio
import contextlib

from structlog.typing import FilteringBoundLogger

from services.partner_feed.partners import PartnerSource
from services.partner_feed.puller import Puller


class PullScheduler:
    def __init__(
        self, puller: Puller, partners: list[PartnerSource], logger: FilteringBoundLogger
    ) -> None:
        self._puller = puller
        self._partners = partners
        self._log = logger
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for partner in self._partners:
            self._tasks.append(asyncio.create_task(self._loop(partner), name=f"pull:{partner.id}"))

    async def _loop(self, partner: PartnerSource) -> None:
        while not self._stop.is_set():
            try:
                await self._puller.pull(partner)
            except Exception:
                self._log.exception("pull failed", partner=partner.id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), partner.interval_seconds)

    async def stop(self) -> None:
        """Stop waiting; a pull in progress is cancelled (its import records the interruption)."""
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
