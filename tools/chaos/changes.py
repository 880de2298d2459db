"""Changes through the registry API, driven concurrently, and which of them were acknowledged.

Each worker runs chains of four changes on one activity: create (201), two merge patches
(200) and a withdrawal (200), each request sent individually. A change counts as
acknowledged when its 2xx answer arrived; its ETag names the version it made. A request
the registry could not answer (connection refused or dropped while it is killed, a 503
while it restarts) is sent again until it is answered; any other 5xx is a server error. A
withdrawal whose answer was lost and that then answers 409 (already withdrawn) had been
applied: it is counted in `applied_unanswered`, not acknowledged.
The activities carry `tag` as their partner, which the scenario's subscription filters on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tools.chaos.cases import activity_doc
from tools.chaos.receiver import Change
from tools.chaos.tally import Tally

OnAck = Callable[[Change], None]


@dataclass
class ChangeLoad:
    http: aiohttp.ClientSession
    registry: str
    key: str
    tag: str
    total: int
    tally: Tally
    on_ack: OnAck
    concurrency: int = 48
    acknowledged: set[Change] = field(default_factory=set)
    resent: int = 0
    refused: int = 0
    applied_unanswered: int = 0
    """Requests applied whose answer was lost (a withdrawal sent again answers 409)."""
    _claimed: int = 0
    _done: bool = False
    _progress: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    async def run(self) -> None:
        """Until `total` changes were acknowledged."""
        workers = [asyncio.create_task(self._worker(i)) for i in range(self.concurrency)]
        try:
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            self._done = True
            async with self._progress:
                self._progress.notify_all()

    async def wait_acknowledged(self, count: int) -> None:
        """Until `count` changes have been acknowledged, or the load has ended."""
        async with self._progress:
            await self._progress.wait_for(lambda: self._done or len(self.acknowledged) >= count)

    def _claim(self) -> bool:
        if self._claimed >= self.total:
            return False
        self._claimed += 1
        return True

    async def _worker(self, number: int) -> None:
        doc = activity_doc(partners=[{"name": self.tag, "kind": "ip_office", "role": "funding"}])
        base = f"{self.registry}/v1/activities"
        while self._claim():
            created = await self._send("POST", base, doc, want=201)
            if created is None or not self._claim():
                continue
            activity = created[0]
            url = f"{base}/{activity}"
            if await self._send("PATCH", url, {"title": {"en": f"Patched {number}"}}) is None:
                continue
            if not self._claim():
                continue
            if await self._send("PATCH", url, {"status": "finalisation"}) is None:
                continue
            if not self._claim():
                continue
            await self._send("POST", f"{url}/withdraw", {"reason": "chaos withdrawal"})

    async def _send(
        self, method: str, url: str, body: dict[str, Any], *, want: int = 200
    ) -> Change | None:
        """Send until answered; the acknowledged change, None if it was refused (4xx)."""
        pause = 0.05
        unanswered = False
        while True:
            try:
                async with self.http.request(method, url, json=body, headers=self.headers) as resp:
                    status = resp.status
                    if status == want:
                        document = await resp.json()
                        change = (str(document["id"]), int(resp.headers["ETag"].strip('"')))
                        await self._acknowledged(change)
                        return change
                    text = (await resp.text())[:200]
            except (aiohttp.ClientError, TimeoutError):
                status, text = 0, "no answer"
            if status in {503, 0}:
                self.resent += 1
                unanswered = unanswered or status == 0
            elif status >= 500:
                self.tally.fail("server_errors", f"{method} {url} -> {status} {text}")
                self.resent += 1
            elif unanswered and status == 409 and url.endswith("/withdraw"):
                self.applied_unanswered += 1  # the first one was applied, its answer lost
                return None
            else:
                # Not acknowledged, so not owed; but the load is built to be valid.
                self.refused += 1
                if len(self.tally.failures) < 50:
                    self.tally.failures.append(f"refused: {method} {url} -> {status} {text}")
                return None
            await asyncio.sleep(pause)  # the registry is down or restarting
            pause = min(pause * 2, 1.0)

    async def _acknowledged(self, change: Change) -> None:
        self.acknowledged.add(change)
        self.on_ack(change)
        with contextlib.suppress(RuntimeError):
            async with self._progress:
                self._progress.notify_all()
