"""`make bench-transport`: the shared producer + consumer runner against raw aiokafka.

Same broker, same run, same 1 KB events: produce N then consume N with a consumer group.
The raw loop is aiokafka alone (idempotent producer, getmany, one commit at the end); the
shared path adds the CloudEvents envelope, pydantic validation, tracing spans, routing,
de-duplication bookkeeping, metrics and policy commits. Prints medians of R rounds and the
ratio shared/raw.

Each event belongs to a trace of its own, as a registry change does (its HTTP request
starts it): the publisher makes a producer span per event and the runner a process span
per record. The shared path runs twice: every trace recorded (`ParentBased(ALWAYS_ON)`,
the default), and head-sampled at 10 % (`OTEL_TRACES_SAMPLER=parentbased_traceidratio`,
`OTEL_TRACES_SAMPLER_ARG=0.1`, what a high-volume deployment sets): trace context still
flows through every record and log line, but only sampled traces make recording spans.
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import statistics
import sys
import time
import uuid
from typing import ClassVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, Sampler, TraceIdRatioBased
from prometheus_client import CollectorRegistry

from shared import (
    ConsumerRunner,
    Event,
    EventCatalog,
    EventPublisher,
    KafkaTransport,
    MemoryDedup,
    MessageContext,
    Outgoing,
    PipelineMetrics,
    Router,
    TopicSpec,
    configure_logging,
)

N = int(os.environ.get("BENCH_MESSAGES", "20000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
PAYLOAD = "x" * 900  # with the other fields the JSON body is ~1 KB
SAMPLED_RATIO = 0.1


class BenchEvent(Event):
    TYPE: ClassVar[str] = "org.wipo.tabridge.bench.event"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str] = "bench"

    activity_id: str
    seq: int
    payload: str

    def key(self) -> str:
        return self.activity_id


def _events() -> list[BenchEvent]:
    return [
        BenchEvent(activity_id=f"TA-2026-{i % 500:06d}", seq=i, payload=PAYLOAD) for i in range(N)
    ]


def _traceparents(ratio: float, rng: random.Random) -> list[str]:
    """One trace per event, flagged sampled as a `TraceIdRatioBased(ratio)` root decides."""
    bound = round(ratio * (2**64 - 1))
    out = []
    for _ in range(N):
        trace_id, span_id = rng.getrandbits(128) or 1, rng.getrandbits(64) or 1
        flags = "01" if trace_id & 0xFFFFFFFFFFFFFFFF < bound else "00"
        out.append(f"00-{trace_id:032x}-{span_id:016x}-{flags}")
    return out


async def raw_round(bootstrap: str, topic: str) -> float:
    value = BenchEvent(activity_id="TA-2026-000000", seq=0, payload=PAYLOAD).to_json()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        max_batch_size=256 * 1024,
    )
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"raw-{topic}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=500,
    )
    await producer.start()
    await consumer.start()
    started = time.perf_counter()
    futures = [
        await producer.send(topic, value=value, key=f"TA-2026-{i % 500:06d}".encode())
        for i in range(N)
    ]
    await asyncio.gather(*futures)
    seen = 0
    while seen < N:
        batch = await consumer.getmany(timeout_ms=500, max_records=500)
        seen += sum(len(records) for records in batch.values())
    await consumer.commit()
    elapsed = time.perf_counter() - started
    await consumer.stop()
    await producer.stop()
    return N / elapsed


async def shared_round(
    bootstrap: str,
    topic: str,
    events: list[BenchEvent],
    traceparents: list[str],
    sampler: Sampler,
) -> float:
    transport = KafkaTransport(bootstrap)
    registry = CollectorRegistry()
    metrics = PipelineMetrics(registry)
    # Spans are made (and their context propagated), not exported.
    provider = TracerProvider(sampler=sampler)
    tracer = provider.get_tracer("bench")
    logger = configure_logging("bench", "WARNING", stream=io.StringIO())
    publisher = EventPublisher(
        transport.producer(client_id="bench"), source="/bench", tracer=tracer, metrics=metrics
    )
    catalog = EventCatalog()
    catalog.register(BenchEvent)
    done = asyncio.Event()
    count = 0

    async def handle(event: Event, ctx: MessageContext) -> None:
        nonlocal count
        count += 1
        if count >= N:
            done.set()

    router = Router()
    router.route(BenchEvent, handle)
    runner = ConsumerRunner(
        transport=transport,
        group_id=f"shared-{topic}",
        topics=[topic],
        router=router,
        catalog=catalog,
        publisher=publisher,
        logger=logger,
        metrics=metrics,
        tracer=tracer,
        dedup=MemoryDedup(capacity=N * 2),
    )
    await publisher.start()
    task = asyncio.create_task(runner.run())
    await runner.assigned.wait()
    started = time.perf_counter()
    await publisher.publish_all(
        [Outgoing(topic, e, traceparent=tp) for e, tp in zip(events, traceparents, strict=True)]
    )
    await done.wait()
    elapsed = time.perf_counter() - started
    runner.stop()
    await task
    await publisher.close()
    provider.shutdown()
    return N / elapsed


async def main() -> int:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    transport = KafkaTransport(bootstrap)
    events = _events()
    rng = random.Random(20261201)  # noqa: S311 - trace ids for a benchmark
    every = _traceparents(1.0, rng)
    sampled = _traceparents(SAMPLED_RATIO, rng)
    runs: dict[str, list[float]] = {"raw": [], "all": [], "sampled": []}
    print(f"bench-transport: {N} events of ~1 KB, one trace each, {ROUNDS} rounds, {bootstrap}")
    for round_no in range(ROUNDS):
        topics = [f"bench.{kind}.{uuid.uuid4().hex[:8]}" for kind in runs]
        await transport.ensure_topics([TopicSpec(t, 3) for t in topics])
        runs["raw"].append(await raw_round(bootstrap, topics[0]))
        runs["all"].append(
            await shared_round(bootstrap, topics[1], events, every, ParentBased(ALWAYS_ON))
        )
        runs["sampled"].append(
            await shared_round(
                bootstrap,
                topics[2],
                events,
                sampled,
                ParentBased(TraceIdRatioBased(SAMPLED_RATIO)),
            )
        )
        print(
            f"  round {round_no + 1}: raw {runs['raw'][-1]:,.0f} msg/s   "
            f"shared {runs['all'][-1]:,.0f} msg/s   "
            f"shared 10% sampled {runs['sampled'][-1]:,.0f} msg/s"
        )
    raw, every_median, sampled_median = (statistics.median(runs[k]) for k in runs)
    print(f"raw aiokafka produce+consume        : {raw:,.0f} msg/s (median)")
    print(f"shared, every trace recorded        : {every_median:,.0f} msg/s (median)")
    print(f"shared, head-sampled at 10%         : {sampled_median:,.0f} msg/s (median)")
    print(f"ratio shared/raw, every trace       : {every_median / raw:.0%} (aim: >= 60%)")
    print(f"ratio shared/raw, 10% sampled       : {sampled_median / raw:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
