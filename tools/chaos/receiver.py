"""A webhook receiver that counts instead of keeping bodies: 100,000 deliveries in little memory.

It listens on a fixed loopback port (allow-listed at the notifier when the system starts),
can go `down()` (connections refused) and come back `up()` on the same port, verifies
every delivery's signature (`services.devstack.verify_signature`) and answers 204, or 401
for a bad signature. Per change (activity id, version) it keeps the webhook-ids that
delivered it; per webhook-id how often it arrived; per activity the versions in the order
of their first arrival (a receiver that de-duplicates on webhook-id sees that order), and
counts an order violation when a version first arrives after a later one of its activity.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Callable

import orjson
from aiohttp import web

from services.devstack import verify_signature
from services.devstack.ports import serve

Change = tuple[str, int]


class CountingReceiver:
    def __init__(self, port: int, *, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self._secrets: list[str] = []
        self._runner: web.AppRunner | None = None
        self.arrivals: Counter[str] = Counter()
        """webhook-id -> verified arrivals."""
        self.ids_of: defaultdict[Change, set[str]] = defaultdict(set)
        """(activity id, version) -> the webhook-ids that delivered it."""
        self.first_at: dict[Change, float] = {}
        self.pending: set[Change] = set()
        """Changes `expect`ed and not delivered yet."""
        self.unverified = 0
        self.order_violations = 0
        self._latest: dict[str, int] = {}
        self._changed = asyncio.Condition()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/webhooks"

    def trust(self, secret: str) -> None:
        self._secrets.append(secret)

    async def up(self) -> None:
        if self._runner is None:
            app = web.Application()
            app.router.add_post("/webhooks", self._receive)
            self._runner, _ = await serve(app, self.host, self.port)

    async def down(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    @property
    def repeats(self) -> int:
        """Arrivals beyond the first of each webhook-id."""
        return sum(n - 1 for n in self.arrivals.values() if n > 1)

    async def wait_for(self, predicate: Callable[[], bool], *, within: float) -> bool:
        """Until `predicate()` holds (checked on each arrival) or `within` seconds passed."""
        try:
            async with asyncio.timeout(within), self._changed:
                await self._changed.wait_for(predicate)
        except TimeoutError:
            return predicate()
        return True

    def expect(self, change: Change) -> None:
        """Note an acknowledged change; it stays in `pending` until it is delivered."""
        if change not in self.ids_of:
            self.pending.add(change)

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {name.lower(): value for name, value in request.headers.items()}
        if not verify_signature(self._secrets, headers, body, now=time.time()):
            self.unverified += 1
            return web.Response(status=401)
        webhook_id = headers["webhook-id"]
        self.arrivals[webhook_id] += 1
        if self.arrivals[webhook_id] == 1:
            data = orjson.loads(body).get("data") or {}
            change = (str(data.get("activity_id")), int(data.get("version") or 0))
            self.ids_of[change].add(webhook_id)
            self.first_at.setdefault(change, time.monotonic())
            self.pending.discard(change)
            latest = self._latest.get(change[0], 0)
            if change[1] < latest:
                self.order_violations += 1
            else:
                self._latest[change[0]] = change[1]
            async with self._changed:
                self._changed.notify_all()
        return web.Response(status=204)
