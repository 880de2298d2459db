"""Real aiohttp receivers on 127.0.0.1 and a dispatcher wired to a manual clock."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from services.notifier.clock import ManualClock
from services.notifier.deliveries import AttemptOutcome, Delivery
from services.notifier.dispatcher import Dispatcher, DispatchLimits
from services.notifier.events import IncomingEvent
from services.notifier.memory_store import MemoryStore
from services.notifier.schedule import RetrySchedule
from services.notifier.sender import WebhookSender, vetted_session
from services.notifier.sqlite_store import SqliteStore
from services.notifier.ssrf import TargetPolicy
from services.notifier.store import NotifierStore
from services.notifier.subscriptions import Filters, Partner, Subscription

Behaviour = Callable[[web.Request], Awaitable[web.StreamResponse]]
DEADLINE = 10.0
COMMUNITIES = {"EAC": frozenset({"KE", "TZ", "UG", "RW", "BI", "SS", "CD", "SO"})}


async def ok(_: web.Request) -> web.StreamResponse:
    return web.Response(status=204)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def subject(self) -> str:
        return str(json.loads(self.body)["subject"])

    @property
    def event_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    """A webhook endpoint on 127.0.0.1 that records what reaches it."""

    behaviour: Behaviour = ok
    port: int = 0
    received: list[Received] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        response = await self.behaviour(request)
        if 200 <= response.status < 300:
            self.received.append(Received(dict(request.headers), body))
        async with self._arrived:
            self._arrived.notify_all()
        return response

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait_for(self, count: int, timeout: float = DEADLINE) -> list[Received]:
        """Wait until ``count`` webhooks were accepted (2xx), failing after ``timeout``."""
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.received) >= count)
        return self.received


Receivers = Callable[..., Awaitable[Receiver]]


@pytest.fixture
async def receivers() -> AsyncIterator[Receivers]:
    started: list[Receiver] = []

    async def make(behaviour: Behaviour = ok) -> Receiver:
        receiver = Receiver(behaviour)
        await receiver.start()
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        await receiver.stop()


@dataclass
class RecordingMetrics:
    """Counts what the dispatcher reports and lets a test wait for a count."""

    counts: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    _waiters: list[tuple[str, int, asyncio.Future[None]]] = field(default_factory=list)

    def _bump(self, name: str, by: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + by
        for waited, count, future in self._waiters:
            if waited == name and self.counts[name] >= count and not future.done():
                future.set_result(None)

    def enqueued(self, count: int) -> None:
        self._bump("enqueued", count)

    def attempted(self, outcome: AttemptOutcome, latency_seconds: float) -> None:
        self.latencies.append(latency_seconds)
        self._bump(f"attempt.{outcome.value}")

    def delivered(self) -> None:
        self._bump("delivered")

    def failed(self) -> None:
        self._bump("failed")

    async def wait_for(self, name: str, count: int, timeout: float = DEADLINE) -> None:
        """Wait until counter ``name`` reaches ``count``; TimeoutError after ``timeout``."""
        if self.counts.get(name, 0) >= count:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((name, count, future))
        async with asyncio.timeout(timeout):
            await future


@dataclass
class Harness:
    clock: ManualClock
    store: NotifierStore
    dispatcher: Dispatcher
    dead: list[Delivery]
    dead_arrived: asyncio.Event
    metrics: RecordingMetrics
    policy: TargetPolicy

    async def subscribe(self, url: str, **filters: Any) -> Subscription:
        await self.store.add_partner(Partner("p1", "Partner One"), key_hashes=[])
        subscription = Subscription.new(
            partner_id="p1",
            url=url,
            event_types=frozenset({"*"}),
            filters=Filters(**filters),
            now=self.clock.now(),
        )
        await self.store.insert_subscription(subscription)
        return subscription


def event(n: int, subject: str = "act-1", **facets: Any) -> IncomingEvent:
    body = {"specversion": "1.0", "id": f"evt-{subject}-{n}", "subject": subject, "seq": n}
    return IncomingEvent(
        id=f"evt-{subject}-{n}",
        type="org.wipo.ta.activity.updated.v1",
        subject=subject,
        time=datetime(2025, 1, 1, tzinfo=UTC),
        body=json.dumps(body).encode(),
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        **facets,
    )


class FakeResolver(AbstractResolver):
    """Answers from a table the test edits, to stage DNS rebinding."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in self.answers:
            raise OSError(f"{host} does not resolve")
        address = self.answers[host]
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=0,
            )
        ]

    async def close(self) -> None:
        pass


async def drive_until(clock: ManualClock, done: asyncio.Event, timeout: float = DEADLINE) -> None:
    """Jump the clock from one sleeper's deadline to the next until ``done`` is set."""
    async with asyncio.timeout(timeout):
        while not done.is_set():
            asleep = asyncio.ensure_future(clock.wait_for_sleepers(1))
            finished = asyncio.ensure_future(done.wait())
            await asyncio.wait({asleep, finished}, return_when=asyncio.FIRST_COMPLETED)
            for waiter in (asleep, finished):
                waiter.cancel()
            if clock.deadlines():
                clock.advance_to(clock.deadlines()[0])


@asynccontextmanager
async def build_harness(
    allow: Sequence[str] = ("127.0.0.1/32",),
    resolver: AbstractResolver | None = None,
    *,
    store: NotifierStore | None = None,
    clock: ManualClock | None = None,
    limits: DispatchLimits | None = None,
) -> AsyncIterator[Harness]:
    """A dispatcher on a manual clock (memory store unless given), its sender vetted by ``allow``."""
    clock = clock or ManualClock()
    store = store or MemoryStore()
    dead: list[Delivery] = []
    dead_arrived = asyncio.Event()

    async def dead_letter(delivery: Delivery) -> None:
        dead.append(delivery)
        dead_arrived.set()

    metrics = RecordingMetrics()
    policy = TargetPolicy.from_allowlist(allow)
    async with vetted_session(policy, resolver=resolver) as session:
        dispatcher = Dispatcher(
            store=store,
            sender=WebhookSender(session, policy, timeout=30),
            clock=clock,
            schedule=RetrySchedule(jitter=0),
            community_members=COMMUNITIES,
            dead_letter=dead_letter,
            metrics=metrics,
            limits=limits or DispatchLimits(max_in_flight=8, per_subscription=2),
        )
        await dispatcher.start()
        try:
            yield Harness(clock, store, dispatcher, dead, dead_arrived, metrics, policy)
        finally:
            await dispatcher.close()


@pytest.fixture(params=["memory", "sqlite"])
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    """The delivery harness on each store implementation."""
    if request.param == "memory":
        async with build_harness() as built:
            yield built
        return
    sqlite = await SqliteStore.open(tmp_path / "notifier.db")
    try:
        async with build_harness(store=sqlite) as built:
            yield built
    finally:
        await sqlite.close()
