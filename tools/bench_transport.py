"""`make bench-transport`: the shared producer + consumer runner against raw aiokafka.

Same broker, same run, same 1 KB events: produce N then consume N with a consumer group.
The raw loop is aiokafka alone (idempotent producer, getmany, one commit at the end); the
shared path adds the CloudEvents envelope, pydantic validation, tracing spans, routing,
de-duplication bookkeeping, metrics and policy commits. Prints medians of R rounds and the
ratio shared/raw.
"""

from __future__ import annotations

import asyncio
import io
import os
import statistics
import sys
import time
import uuid
from typing import ClassVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from opentelemetry.sdk.trace import TracerProvider
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


async def shared_round(bootstrap: str, topic: str, events: list[BenchEvent]) -> float:
    transport = KafkaTransport(bootstrap)
    registry = CollectorRegistry()
    metrics = PipelineMetrics(registry)
    provider = TracerProvider()  # spans are made (and their context propagated), not exported
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
    await publisher.publish_all([Outgoing(topic, e) for e in events])
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
    raw: list[float] = []
    shared: list[float] = []
    print(f"bench-transport: {N} events of ~1 KB, {ROUNDS} rounds, broker {bootstrap}")
    for round_no in range(ROUNDS):
        topics = [f"bench.{kind}.{uuid.uuid4().hex[:8]}" for kind in ("raw", "shared")]
        await transport.ensure_topics([TopicSpec(t, 3) for t in topics])
        raw.append(await raw_round(bootstrap, topics[0]))
        shared.append(await shared_round(bootstrap, topics[1], events))
        print(f"  round {round_no + 1}: raw {raw[-1]:,.0f} msg/s   shared {shared[-1]:,.0f} msg/s")
    raw_median, shared_median = statistics.median(raw), statistics.median(shared)
    ratio = shared_median / raw_median
    print(f"raw aiokafka produce+consume : {raw_median:,.0f} msg/s (median)")
    print(f"shared publisher + runner    : {shared_median:,.0f} msg/s (median)")
    print(f"ratio shared/raw             : {ratio:.0%} (aim: >= 60%)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
