"""Webhook delivery throughput and latency: the notifier against a bare aiohttp client.

    python -m tools.bench_notify [--mode direct|kafka] [--rounds 3] [--events 100]

Twenty webhook receivers (aiohttp servers on 127.0.0.1) each hold one subscription to every
event; `--events` activity events over half as many activities make `20 x events`
deliveries (2,000 by default), each signed per Standard Webhooks and stored durably (SQLite)
before it is sent. In the same run, a bare aiohttp client POSTs the same bodies to the same
receivers with the same concurrency (64 in flight): the ratio is the notifier's share of
the raw HTTP rate. Latency is measured under that burst, from hand-over to arrival at the
receiver: from `accept` of the event (direct), from the start of publication (kafka), from
the start of the run (bare client). The receivers run in the bench's process, so both sides
share its CPU with them alike; both start with cold HTTP connections. In `kafka` mode one
warm-up event (matching no subscription yet) is published and consumed before the clock
starts, so that the publisher's first metadata fetch and the leader elections of the round's
just-created topics are not timed: a deployed pipeline publishes to topics that exist.

`direct` feeds the dispatcher as the consumer would (no Kafka); `kafka` runs the whole
service (`create_app`) and publishes activity events with the shared publisher. The default
is `kafka` when KAFKA_BOOTSTRAP_SERVERS is set (as `make bench-notify` does), else `direct`.
Each figure is the median of the rounds; rounds alternate notifier and bare client, and the
ratio printed last (`RATIO bench-notify`) is the median of the per-round rate ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import orjson
from aiohttp import web
from prometheus_client import CollectorRegistry

from services.notifier.clock import SystemClock
from services.notifier.deliveries import Delivery
from services.notifier.dispatcher import Dispatcher, DispatchLimits
from services.notifier.events import IncomingEvent
from services.notifier.schedule import RetrySchedule
from services.notifier.sender import WebhookSender, vetted_session
from services.notifier.signing import sign
from services.notifier.sqlite_store import SqliteStore
from services.notifier.ssrf import TargetPolicy
from services.notifier.subscriptions import Filters, Partner, Subscription
from shared.events import ActivityUpdated

RECEIVERS = 20
IN_FLIGHT = 64


@dataclass
class Receivers:
    """Twenty endpoints on one runner; arrival time per (port, webhook-id)."""

    ports: list[int] = field(default_factory=list)
    arrivals: dict[tuple[int, str], float] = field(default_factory=dict)
    samples: dict[int, tuple[dict[str, str], bytes]] = field(default_factory=dict)
    expected: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook/{port}", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        for _ in range(RECEIVERS):
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
        self.ports = [addr[1] for addr in self._runner.addresses]

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        port = request.url.port or 0
        self.arrivals[(port, request.headers.get("webhook-id", ""))] = time.perf_counter()
        if port not in self.samples:
            self.samples[port] = (dict(request.headers), body)
        if len(self.arrivals) >= self.expected:
            self.done.set()
        return web.Response(status=204)

    def reset(self, expected: int) -> None:
        self.arrivals.clear()
        self.samples.clear()
        self.expected = expected
        self.done = asyncio.Event()

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}/hook/{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@dataclass(frozen=True)
class Round:
    rate: float
    p50_ms: float
    p99_ms: float


def _round(count: int, elapsed: float, latencies: list[float]) -> Round:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return Round(count / elapsed, statistics.median(ordered) * 1000, p99 * 1000)


def _events(count: int) -> list[IncomingEvent]:
    events = []
    for n in range(count):
        subject = f"TA-2026-{n % max(1, count // 2):06d}"
        event_id = str(uuid.uuid4())
        body = orjson.dumps(
            {
                "specversion": "1.0",
                "id": event_id,
                "source": "/bench",
                "type": "org.wipo.tabridge.activity.updated.v1",
                "subject": subject,
                "data": {"activity_id": subject, "version": n, "padding": "x" * 1500},
            }
        )
        events.append(
            IncomingEvent(
                id=event_id,
                type="org.wipo.tabridge.activity.updated.v1",
                subject=subject,
                time=datetime.now(UTC),
                body=body,
                countries=frozenset({"KE"}),
            )
        )
    return events


def _check_signed(receivers: Receivers, secrets: dict[int, str]) -> None:
    """One delivery per receiver must verify under its subscription's secret."""
    for port, (headers, body) in receivers.samples.items():
        expected = sign(
            secrets[port],
            msg_id=headers["webhook-id"],
            timestamp=int(headers["webhook-timestamp"]),
            body=body,
        )
        if expected not in headers["webhook-signature"].split():
            raise SystemExit(f"receiver {port} got a webhook that does not verify")


async def _baseline(receivers: Receivers, events: list[IncomingEvent]) -> Round:
    jobs = [(port, e) for e in events for port in receivers.ports]
    receivers.reset(len(jobs))
    slots = asyncio.Semaphore(IN_FLIGHT)
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(port: int, event: IncomingEvent) -> None:
            async with (
                slots,
                session.post(
                    receivers.url(port),
                    data=event.body,
                    headers={"webhook-id": event.id, "content-type": "application/json"},
                ) as response,
            ):
                await response.read()

        started = time.perf_counter()
        await asyncio.gather(*(post(port, e) for port, e in jobs))
        elapsed = time.perf_counter() - started
    latencies = [at - started for at in receivers.arrivals.values()]
    return _round(len(jobs), elapsed, latencies)


async def _direct(receivers: Receivers, events: list[IncomingEvent], db: Path) -> Round:
    store = await SqliteStore.open(db)
    secrets: dict[int, str] = {}
    await store.add_partner(Partner("bench", "Bench"), key_hashes=[])
    for port in receivers.ports:
        subscription = Subscription.new(
            partner_id="bench",
            url=receivers.url(port),
            event_types=frozenset({"*"}),
            filters=Filters(),
            now=datetime.now(UTC),
        )
        await store.insert_subscription(subscription)
        secrets[port] = subscription.current_secret
    policy = TargetPolicy.from_allowlist(["127.0.0.1/32"])
    receivers.reset(len(events) * RECEIVERS)

    async def dead_letter(delivery: Delivery) -> None:
        raise SystemExit(f"delivery {delivery.id} failed: {delivery.last_error}")

    accepted: dict[str, float] = {}
    async with vetted_session(policy) as session:
        dispatcher = Dispatcher(
            store=store,
            sender=WebhookSender(session, policy),
            clock=SystemClock(),
            schedule=RetrySchedule(),
            community_members={},
            dead_letter=dead_letter,
            limits=DispatchLimits(max_in_flight=IN_FLIGHT),
        )
        await dispatcher.start()
        started = time.perf_counter()
        for event in events:
            accepted[event.id] = time.perf_counter()
            await dispatcher.accept(event)
        await asyncio.wait_for(receivers.done.wait(), 120)
        elapsed = time.perf_counter() - started
        await dispatcher.close()
    await store.close()
    _check_signed(receivers, secrets)
    latencies = [at - accepted[event_id] for (_, event_id), at in receivers.arrivals.items()]
    return _round(len(receivers.arrivals), elapsed, latencies)


async def _kafka(receivers: Receivers, count: int, db: Path, bootstrap: str) -> Round:
    from services.notifier.app import create_app
    from services.notifier.settings import NotifierSettings
    from services.notifier.state import CONSUMER, STORE
    from shared import METRICS_REGISTRY, EventPublisher, KafkaTransport, Outgoing, load_settings
    from shared.events import ACTIVITY_EVENTS, namespaced

    namespace = f"bench{uuid.uuid4().hex[:8]}"
    warm_up = _change("TA-2026-999999", 1)
    settings = load_settings(
        NotifierSettings,
        env={
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "TABRIDGE_TOPIC_NAMESPACE": namespace,
            "LOG_LEVEL": "WARNING",
            "NOTIFIER_DB_PATH": str(db),
            "NOTIFIER_ALLOWLIST": "127.0.0.1/32",
            "NOTIFIER_CONSUMER_GROUP": f"notifier-{namespace}",
            "NOTIFIER_MAX_IN_FLIGHT": str(IN_FLIGHT),
        },
    )
    transport = KafkaTransport(bootstrap)
    app = create_app(settings, transport=transport)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    secrets: dict[int, str] = {}
    publisher = EventPublisher(transport.producer(client_id="bench"), source="/bench")
    try:
        await asyncio.wait_for(app[CONSUMER].assigned.wait(), 60)
        # A deployed pipeline publishes to topics that exist and a producer that knows their
        # leaders; a round's topics were created a moment ago. One event before any
        # subscription exists (it matches nobody) warms the publisher's metadata and the
        # consumer's fetch, so that neither lands inside the timed burst.
        await publisher.start()
        await publisher.publish_all([Outgoing(namespaced(ACTIVITY_EVENTS, namespace), warm_up)])
        await _handled(app[METRICS_REGISTRY], 1)
        store = app[STORE]
        await store.add_partner(Partner("bench", "Bench"), key_hashes=[])
        for port in receivers.ports:
            subscription = Subscription.new(
                partner_id="bench",
                url=receivers.url(port),
                event_types=frozenset({"*"}),
                filters=Filters(),
                now=datetime.now(UTC),
            )
            await store.insert_subscription(subscription)
            secrets[port] = subscription.current_secret
        receivers.reset(count * RECEIVERS)
        items = [
            Outgoing(
                namespaced(ACTIVITY_EVENTS, namespace),
                _change(f"TA-2026-{n % max(1, count // 2):06d}", n + 1),
            )
            for n in range(count)
        ]
        started = time.perf_counter()
        await publisher.publish_all(items)
        await asyncio.wait_for(receivers.done.wait(), 120)
        elapsed = time.perf_counter() - started
    finally:
        await publisher.close()
        await runner.cleanup()
        await drop_topics(bootstrap, namespace)
    _check_signed(receivers, secrets)
    latencies = [at - started for at in receivers.arrivals.values()]
    return _round(len(receivers.arrivals), elapsed, latencies)


def _change(ident: str, version: int) -> ActivityUpdated:
    from shared.domain import Activity

    now = datetime.now(UTC)
    state = Activity.model_validate(
        {
            "id": ident,
            "version": version,
            "iati_identifier": f"XI-IATI-WIPO-{ident}",
            "title": {"en": f"Capacity building {version}"},
            "category": "capacity_building",
            "lead_unit": {"kind": "regional_bureau", "name": "Regional Bureau"},
            "beneficiaries": [{"country": "KE"}],
            "created_at": now,
            "updated_at": now,
            "created_by": "bench",
            "updated_by": "bench",
        }
    )
    return ActivityUpdated(activity_id=ident, version=version, actor="bench", state=state)


async def _handled(registry: CollectorRegistry, count: int) -> None:
    """Wait until the notifier's consumer has handled ``count`` events."""
    deadline = time.monotonic() + 60
    while _handled_so_far(registry) < count:
        if time.monotonic() > deadline:
            raise SystemExit("the notifier did not consume the warm-up event within 60 s")
        await asyncio.sleep(0.01)


def _handled_so_far(registry: CollectorRegistry) -> float:
    return sum(
        sample.value
        for metric in registry.collect()
        if metric.name == "tabridge_events_handled"
        for sample in metric.samples
        if sample.name == "tabridge_events_handled_total"
    )


async def drop_topics(bootstrap: str, namespace: str) -> None:
    """Delete a round's topics: a broker holding thousands of them makes every client's
    metadata (and the broker) slower for the rounds after."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    with contextlib.suppress(Exception):
        await admin.start()
        names = [t for t in await admin.list_topics() if t.startswith(f"{namespace}.")]
        if names:
            await admin.delete_topics(names)
    await admin.close()


def _median(rounds: list[Round]) -> Round:
    return Round(
        statistics.median(r.rate for r in rounds),
        statistics.median(r.p50_ms for r in rounds),
        statistics.median(r.p99_ms for r in rounds),
    )


async def main(mode: str, rounds: int, count: int) -> None:
    receivers = Receivers()
    await receivers.start()
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    deliveries = count * RECEIVERS
    ours: list[Round] = []
    bases: list[Round] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # Rounds alternate (notifier, bare, notifier, ...) so that a change in the
            # machine's load hits both sides; each round's ratio pairs neighbours.
            for i in range(rounds):
                db = Path(tmp) / f"round{i}.db"
                if mode == "kafka":
                    ours.append(await _kafka(receivers, count, db, bootstrap))
                else:
                    ours.append(await _direct(receivers, _events(count), db))
                bases.append(await _baseline(receivers, _events(count)))
                o, b = ours[-1], bases[-1]
                print(
                    f"  round {i + 1}: notifier {o.rate:6.0f}/s p99 {o.p99_ms:6.0f} ms"
                    f" | bare {b.rate:6.0f}/s p99 {b.p99_ms:6.0f} ms",
                    flush=True,
                )
    finally:
        await receivers.stop()
    mine, base = _median(ours), _median(bases)
    ratio = statistics.median(o.rate / b.rate for o, b in zip(ours, bases, strict=True))
    how = (
        "through Kafka: publish -> consumer -> dispatcher -> webhook"
        if mode == "kafka"
        else "dispatcher driven directly (no Kafka): accept -> SQLite -> signed webhook"
    )
    print(f"bench-notify ({how})")
    print(
        f"  {deliveries} deliveries to {RECEIVERS} receivers on 127.0.0.1, "
        f"{IN_FLIGHT} in flight, median of {rounds} rounds"
    )
    print(
        f"  notifier : {mine.rate:8.0f} deliveries/s   "
        f"latency p50 {mine.p50_ms:7.1f} ms  p99 {mine.p99_ms:7.1f} ms"
    )
    print(
        f"  bare POST: {base.rate:8.0f} requests/s     "
        f"latency p50 {base.p50_ms:7.1f} ms  p99 {base.p99_ms:7.1f} ms"
    )
    print(
        f"  ratio    : {ratio:.2f} of the bare client's rate (median of the per-round ratios;"
        f" goal >= 0.50 with p99 <= 1000 ms: p99 {mine.p99_ms:.0f} ms)"
    )
    print(f"RATIO bench-notify {ratio:.2f}")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    default = "kafka" if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") else "direct"
    parser.add_argument("--mode", choices=["direct", "kafka"], default=default)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.mode, args.rounds, args.events))


if __name__ == "__main__":
    cli()
