"""Builds publishers and runners for the behaviour suite on either transport."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from shared import (
    CommitPolicy,
    ConsumerRunner,
    DedupStore,
    DlqLimit,
    Event,
    EventCatalog,
    EventPublisher,
    Outgoing,
    PipelineMetrics,
    RetryPolicy,
    Router,
    TopicSpec,
    Transport,
    configure_logging,
)


class Thing(Event):
    """A test event: `n` is its position in the sequence of its `thing_id`."""

    TYPE: ClassVar[str] = "org.wipo.tabridge.test.thing"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str] = "unused"

    thing_id: str
    n: int
    payload: str = ""

    def key(self) -> str:
        return self.thing_id


@dataclass
class Harness:
    transport: Transport
    topic: str
    catalog: EventCatalog = field(default_factory=EventCatalog)
    exporter: InMemorySpanExporter = field(default_factory=InMemorySpanExporter)
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    log_stream: io.StringIO = field(default_factory=io.StringIO)

    def __post_init__(self) -> None:
        self.catalog.register(Thing)
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer = self.provider.get_tracer("tests")
        self.metrics = PipelineMetrics(self.registry)
        self.logger = configure_logging("tests", "WARNING", stream=self.log_stream)
        self.publisher: EventPublisher | None = None

    async def start(self, partitions: int = 3) -> None:
        await self.transport.ensure_topics(
            [TopicSpec(self.topic, partitions), TopicSpec(f"{self.topic}.dlq", 1)]
        )
        self.publisher = EventPublisher(
            self.transport.producer(client_id="tests"),
            source="/tests",
            tracer=self.tracer,
            metrics=self.metrics,
        )
        await self.publisher.start()

    async def close(self) -> None:
        if self.publisher is not None:
            await self.publisher.close()
        self.provider.shutdown()

    async def publish(self, events: Sequence[Event]) -> list[Any]:
        assert self.publisher is not None
        return await self.publisher.publish_all([Outgoing(self.topic, e) for e in events])

    def runner(
        self,
        group: str,
        router: Router,
        *,
        transport: Transport | None = None,
        dedup: DedupStore | None = None,
        commit: CommitPolicy | None = None,
        retry: RetryPolicy | None = None,
        dlq_limit: DlqLimit | None = None,
        max_batch: int = 500,
        drain_timeout: float = 10.0,
        retry_topic: str | None = None,
    ) -> ConsumerRunner:
        assert self.publisher is not None
        return ConsumerRunner(
            transport=transport or self.transport,
            group_id=group,
            topics=[self.topic],
            router=router,
            catalog=self.catalog,
            publisher=self.publisher,
            logger=self.logger,
            metrics=self.metrics,
            tracer=self.tracer,
            dedup=dedup,
            commit_policy=commit or CommitPolicy(every_messages=100, every_seconds=0.2),
            retry_policy=retry or RetryPolicy(initial_backoff=0.01, max_backoff=0.05),
            dlq_limit=dlq_limit,
            drain_timeout=drain_timeout,
            max_batch=max_batch,
            poll_timeout_ms=100,
            retry_topic=retry_topic,
        )

    async def committed_total(self, group: str) -> int:
        offsets = await self.transport.group_offsets(group)
        return sum(o for tp, o in offsets.items() if tp.topic == self.topic)

    def counter(self, name: str, **labels: str) -> float:
        value = self.registry.get_sample_value(name, labels)
        return value or 0.0


async def stop_runner(runner: ConsumerRunner, task: asyncio.Task[None]) -> None:
    runner.stop()
    await asyncio.wait_for(asyncio.shield(task), 30)
