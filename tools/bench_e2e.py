"""Change -> webhook through the real stack, under sustained load.

    python -m tools.bench_e2e [--rate 20] [--seconds 60] [--drain 60]

Starts the four services as real processes (the launcher `make run` uses) on the broker of
KAFKA_BOOTSTRAP_SERVERS, subscribes a loopback receiver at the notifier (every event type,
EAC activities), then creates activities over HTTP at the registry at a fixed rate (open
loop: a create is sent every 1/rate s whatever the answers) for `--seconds`. Each change is
timed from the moment its POST is sent to the moment its `activity.registered` webhook,
signed and verified, reaches the receiver: registry -> outbox -> Kafka -> notifier (and the
tagger's SDG event, delivered too) -> webhook.

It prints the achieved create rate, change->webhook latency p50/p99, the deliveries lost
(created, but no webhook within `--drain` s after the load ends; must be 0), and each
service's RSS when the load starts, when it ends, and its peak (VmHWM).

The last line is `RATIO bench-e2e <value>`: the latency goal over the measured p99,
500 ms / p99 (>= 1.00 meets the goal of p99 <= 500 ms), and 0 when a delivery was lost or a
create failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from services.devstack import (
    SERVICES,
    Stack,
    StackConfig,
    WebhookReceiver,
    apply_topics,
    build_env,
    caller_env,
    free_port,
)
from services.devstack.demo.keys import DemoKeys, ensure_registry_key
from services.devstack.demo.subscription import NotifierClient
from services.devstack.receiver import Delivery
from tools.bench_notify import drop_topics

ROOT = Path(__file__).resolve().parents[1]
GOAL_P99_MS = 500.0
PARTNER_KEY = "bench-e2e-partner-key-0123456789"
KEYS = DemoKeys(registry_name="bench-e2e-admin", registry="bench-e2e-admin-key-0123456789abcd")
#: Variables of the developer's shell that would point the children elsewhere.
REGISTERED = "activity.registered.v1"


def activity_doc(n: int) -> dict[str, Any]:
    """A valid activity for Kenya (an EAC member), as a registry client would send it."""
    return {
        "title": {"en": f"National IP strategy for Kenya, phase {n}"},
        "description": {
            "en": "Needs assessment and drafting of a national intellectual property strategy "
            "aligned with the national development plan, with a TISC network."
        },
        "category": "national_ip_strategy",
        "stage": "planning_and_design",
        "status": "implementation",
        "beneficiaries": [{"country": "KE"}],
        "regional_communities": ["EAC"],
        "lead_unit": {"kind": "regional_bureau", "name": "Regional Bureau for Africa"},
        "partners": [
            {
                "name": "Kenya Industrial Property Institute",
                "kind": "ip_office",
                "role": "implementing",
            }
        ],
        "modality": "bilateral",
        "dates": {"planned_start": "2026-01-15", "planned_end": "2027-06-30"},
        "da_recommendations": [1, 10],
        "gender_marker": 1,
        "sdg": {"goals": [9], "targets": ["9.5"]},
    }


@dataclass
class Timings:
    """When each change was sent, and when its webhook arrived (keyed by activity id)."""

    sent: dict[str, float] = field(default_factory=dict)
    answered: dict[str, float] = field(default_factory=dict)  # the registry's 201 read
    arrived: dict[str, float] = field(default_factory=dict)
    early: dict[str, float] = field(default_factory=dict)  # webhook before the 201 was read
    #: Wall-clock seconds from the event's CloudEvent `time` (the change's commit at the
    #: registry, pinned by the outbox relay) to the webhook's arrival.
    after_commit: list[float] = field(default_factory=list)
    failed_creates: int = 0
    unverified: int = 0
    deliveries: int = 0
    all_arrived: asyncio.Event = field(default_factory=asyncio.Event)
    done_sending: bool = False

    def on_delivery(self, delivery: Delivery) -> None:
        at = time.perf_counter()
        self.deliveries += 1
        if not delivery.verified:
            self.unverified += 1
            return
        if not str(delivery.event.get("type", "")).endswith(REGISTERED):
            return
        subject = str(delivery.event.get("subject", ""))
        with contextlib.suppress(KeyError, TypeError, ValueError):
            stamp = str(delivery.event["time"]).replace("Z", "+00:00")
            self.after_commit.append(time.time() - datetime.fromisoformat(stamp).timestamp())
        if subject in self.sent:
            self.arrived.setdefault(subject, at)
        else:
            self.early.setdefault(subject, at)
        self._check()

    def created(self, activity_id: str, sent_at: float) -> None:
        self.sent[activity_id] = sent_at
        self.answered[activity_id] = time.perf_counter()
        if activity_id in self.early:
            self.arrived.setdefault(activity_id, self.early.pop(activity_id))

    def _check(self) -> None:
        if self.done_sending and len(self.arrived) >= len(self.sent):
            self.all_arrived.set()


def _rss_kib(pid: int | None, field_name: str) -> int | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _rss(stack: Stack, field_name: str = "VmRSS") -> dict[str, int | None]:
    return {s.name: _rss_kib(stack.child(s.name).pid, field_name) for s in SERVICES}


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _load(
    stack: Stack, timings: Timings, *, rate: float, seconds: float, admin: dict[str, str]
) -> float:
    """Send creates at `rate` per second for `seconds`; the achieved rate."""
    url = stack.url("registry") + "/v1/activities"
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def create(n: int) -> None:
            sent_at = time.perf_counter()
            try:
                async with http.post(url, json=activity_doc(n), headers=admin) as response:
                    if response.status != 201:
                        timings.failed_creates += 1
                        print(f"  create {n}: HTTP {response.status}", file=sys.stderr)
                        return
                    body = await response.json()
            except aiohttp.ClientError as exc:
                timings.failed_creates += 1
                print(f"  create {n}: {exc}", file=sys.stderr)
                return
            timings.created(str(body["id"]), sent_at)

        total = int(rate * seconds)
        tasks: list[asyncio.Task[None]] = []
        started = time.perf_counter()
        for n in range(total):
            due = started + n / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(create(n)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    return total / elapsed


async def main(rate: float, seconds: float, drain: float) -> int:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    timings = Timings()
    receiver = WebhookReceiver(on_delivery=timings.on_delivery)
    await receiver.start()
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        config = StackConfig(
            root=ROOT,
            state_dir=Path(tmp) / "state",
            bootstrap_servers=bootstrap,
            namespace=f"benche2e{uuid.uuid4().hex[:8]}",
            log_level="WARNING",
            ports={spec.name: free_port() for spec in SERVICES},
            overrides={
                "notifier": {
                    "NOTIFIER_PARTNER_KEYS": json.dumps(
                        {"eac": {"name": "EAC secretariat", "keys": [PARTNER_KEY]}}
                    ),
                    "NOTIFIER_ALLOWLIST": f"{receiver.host}:{receiver.port}",
                },
            },
            base_env=caller_env(),
        )
        stack = Stack(config)
        await ensure_registry_key(
            KEYS, python=config.python, cwd=ROOT, env=build_env(config, stack.spec("registry"))
        )
        topics = await apply_topics(config)
        if not topics.applied:
            raise SystemExit(f"topics: {topics.summary}")
        await stack.start(ready_timeout=120)
        try:
            async with aiohttp.ClientSession() as http:
                notifier = NotifierClient(http, stack.url("notifier"), PARTNER_KEY)
                subscribed = await notifier.subscribe(
                    receiver.url, communities=("EAC",), description="bench-e2e"
                )
                receiver.trust(subscribed.secret)
            admin = {"Authorization": f"Bearer {KEYS.registry}"}
            rss_start = _rss(stack)
            achieved = await _load(stack, timings, rate=rate, seconds=seconds, admin=admin)
            rss_end = _rss(stack)
            timings.done_sending = True
            timings._check()
            drain_started = time.perf_counter()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(timings.all_arrived.wait(), drain)
            drained = time.perf_counter() - drain_started
            rss_peak = _rss(stack, "VmHWM")
        finally:
            statuses = await stack.stop(deadline=60)
            await receiver.stop()
            await drop_topics(bootstrap, config.namespace)
    return _report(
        timings,
        rate=rate,
        seconds=seconds,
        achieved=achieved,
        drained=drained,
        rss=(rss_start, rss_end, rss_peak),
        statuses=statuses,
    )


def _report(
    timings: Timings,
    *,
    rate: float,
    seconds: float,
    achieved: float,
    drained: float,
    rss: tuple[dict[str, int | None], ...],
    statuses: dict[str, int | None],
) -> int:
    latencies = sorted(
        (timings.arrived[a] - sent) * 1000
        for a, sent in timings.sent.items()
        if a in timings.arrived
    )
    lost = len(timings.sent) - len(timings.arrived)
    answers = sorted((timings.answered[a] - sent) * 1000 for a, sent in timings.sent.items())
    p50 = statistics.median(latencies) if latencies else float("nan")
    p99 = _percentile(latencies, 0.99) if latencies else float("nan")
    print("bench-e2e (registry POST -> outbox -> Kafka -> notifier -> signed webhook)")
    print(
        f"  offered {rate:.0f} changes/s for {seconds:.0f} s; achieved {achieved:.1f}/s; "
        f"{len(timings.sent)} created, {timings.failed_creates} creates failed"
    )
    print(
        f"  change->webhook latency p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  "
        f"max {latencies[-1] if latencies else float('nan'):7.1f} ms"
    )
    if timings.after_commit:
        commits = sorted(x * 1000 for x in timings.after_commit)
        print(
            f"  of which change committed (CloudEvent time) -> webhook: p50"
            f" {statistics.median(commits):7.1f} ms  p99 {_percentile(commits, 0.99):7.1f} ms"
        )
    if answers:
        print(
            f"  of which the registry's answer (201): p50 {statistics.median(answers):7.1f} ms"
            f"  p99 {_percentile(answers, 0.99):7.1f} ms"
        )
    print(
        f"  lost: {lost} (no webhook {drained:.1f} s after the load ended); "
        f"{timings.deliveries} webhooks received, {timings.unverified} unverified"
    )
    start, end, peak = rss

    def mib(kib: int | None) -> str:
        return f"{(kib or 0) / 1024:6.1f} MiB"

    for name in start:
        print(
            f"  RSS {name:13s} at load start {mib(start[name])}, at load end {mib(end[name])},"
            f" peak {mib(peak[name])}"
        )
    print(f"  exit statuses: {statuses}")
    ok = lost == 0 and timings.failed_creates == 0 and timings.unverified == 0 and latencies
    ratio = GOAL_P99_MS / p99 if ok else 0.0
    print(f"  ratio: goal p99 {GOAL_P99_MS:.0f} ms / measured p99 {p99:.0f} ms (>= 1.00 meets it)")
    print(f"RATIO bench-e2e {ratio:.2f}")
    return 0 if ok else 1


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    # 20/s is what the four services sustain together on the shared 2-core box (at 50/s
    # the registry's own answers fall behind); raise it on a bigger machine.
    parser.add_argument("--rate", type=float, default=20.0, help="changes per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the load")
    parser.add_argument("--drain", type=float, default=60.0, help="wait for stragglers")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.rate, args.seconds, args.drain)))


if __name__ == "__main__":
    cli()
