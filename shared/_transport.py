"""The narrow ports the event core needs from a Kafka client, and the real adapters.

`EventPublisher` and `ConsumerRunner` talk only to these protocols, so the in-memory twin
(`shared._memory_broker`) and aiokafka serve the same code and the same behaviour suite.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.structs import TopicPartition

__all__ = [
    "ConsumerClient",
    "KafkaTransport",
    "ProducerClient",
    "RebalanceCallbacks",
    "Record",
    "TopicPartition",
    "TopicSpec",
    "Transport",
]


class Record(Protocol):
    """What a consumed record offers (aiokafka's ConsumerRecord fits)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...
    @property
    def timestamp(self) -> int: ...


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic as code: what `ensure_topics` creates and `deploy/` applies."""

    name: str
    partitions: int = 3
    replication_factor: int = 1
    compacted: bool = False
    retention_ms: int | None = None
    min_insync_replicas: int | None = None

    def configs(self) -> dict[str, str]:
        configs: dict[str, str] = {}
        if self.compacted:
            configs["cleanup.policy"] = "compact"
        if self.retention_ms is not None:
            configs["retention.ms"] = str(self.retention_ms)
        if self.min_insync_replicas is not None:
            configs["min.insync.replicas"] = str(self.min_insync_replicas)
        return configs


OnPartitions = Callable[[Collection[TopicPartition]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RebalanceCallbacks:
    on_revoked: OnPartitions
    on_assigned: OnPartitions


class ProducerClient(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def flush(self) -> None: ...
    async def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: Sequence[tuple[str, bytes]] | None = None,
    ) -> asyncio.Future[Any]: ...


class ConsumerClient(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def subscribe_with(self, topics: Sequence[str], callbacks: RebalanceCallbacks) -> None: ...
    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[Any]]: ...
    async def commit(self, offsets: dict[TopicPartition, int] | None = None) -> None: ...
    async def committed(self, partition: TopicPartition) -> int | None: ...
    def assignment(self) -> set[TopicPartition]: ...
    def highwater(self, partition: TopicPartition) -> int | None: ...
    async def position(self, partition: TopicPartition) -> int: ...
    def seek(self, partition: TopicPartition, offset: int) -> None: ...


class Transport(Protocol):
    """Builds clients for one cluster (real or in-memory)."""

    def producer(self, *, client_id: str, linger_ms: int = 5) -> ProducerClient: ...
    def consumer(
        self, *, group_id: str, client_id: str, max_poll_records: int
    ) -> ConsumerClient: ...
    async def ensure_topics(self, specs: Sequence[TopicSpec]) -> None: ...
    async def ping(self) -> bool: ...
    async def group_offsets(self, group_id: str) -> dict[TopicPartition, int]: ...
    async def end_offsets(self, topics: Sequence[str]) -> dict[TopicPartition, int]: ...


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, callbacks: RebalanceCallbacks) -> None:
        self._callbacks = callbacks

    async def on_partitions_revoked(self, revoked: Collection[TopicPartition]) -> None:
        await self._callbacks.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: Collection[TopicPartition]) -> None:
        await self._callbacks.on_assigned(assigned)


class _KafkaConsumer(AIOKafkaConsumer):  # type: ignore[misc]
    """aiokafka's consumer with the one method the port adds."""

    def subscribe_with(self, topics: Sequence[str], callbacks: RebalanceCallbacks) -> None:
        self.subscribe(topics=list(topics), listener=_Listener(callbacks))


class KafkaTransport:
    """aiokafka clients with the settings ta-bridge relies on (see KAFKA.md for why).

    Producers are idempotent with `acks=all`; consumers never auto-commit and start from
    the earliest offset when their group has none.
    """

    def __init__(self, bootstrap_servers: str) -> None:
        self.bootstrap_servers = bootstrap_servers

    def producer(self, *, client_id: str, linger_ms: int = 5) -> ProducerClient:
        producer: ProducerClient = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap_servers,
            client_id=client_id,
            enable_idempotence=True,
            acks="all",
            linger_ms=linger_ms,
            max_batch_size=256 * 1024,
            request_timeout_ms=30_000,
        )
        return producer

    def consumer(self, *, group_id: str, client_id: str, max_poll_records: int) -> ConsumerClient:
        consumer: ConsumerClient = _KafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            group_id=group_id,
            client_id=client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=max_poll_records,
            isolation_level="read_committed",
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
            max_poll_interval_ms=300_000,
        )
        return consumer

    async def ensure_topics(self, specs: Sequence[TopicSpec]) -> None:
        """Create the topics that do not exist yet; existing ones are left as they are."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            missing = [
                NewTopic(
                    name=spec.name,
                    num_partitions=spec.partitions,
                    replication_factor=spec.replication_factor,
                    topic_configs=spec.configs(),
                )
                for spec in specs
                if spec.name not in existing
            ]
            if missing:
                # Created concurrently by another process: what we wanted anyway.
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(missing)
        finally:
            await admin.close()

    async def group_offsets(self, group_id: str) -> dict[TopicPartition, int]:
        """The committed offsets of a consumer group (empty when it has none)."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(group_id)
        finally:
            await admin.close()
        return {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}

    async def end_offsets(self, topics: Sequence[str]) -> dict[TopicPartition, int]:
        """The high watermark of every partition of `topics` (missing topics are left out)."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
        try:
            await admin.start()
            # Describing by name auto-creates on brokers with auto-create on: list first.
            existing = set(await admin.list_topics())
            wanted = [t for t in topics if t in existing]
            described = await admin.describe_topics(wanted) if wanted else []
        finally:
            await admin.close()
        partitions = [
            TopicPartition(str(topic["topic"]), int(part["partition"]))
            for topic in described
            if not topic.get("error_code")
            for part in topic.get("partitions", [])
        ]
        if not partitions:
            return {}
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap_servers)
        await consumer.start()
        try:
            ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        finally:
            await consumer.stop()
        return ends

    async def ping(self) -> bool:
        """True when a broker answers a metadata request within a few seconds."""
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap_servers, request_timeout_ms=3_000
        )
        try:
            await asyncio.wait_for(admin.start(), 5)
            await asyncio.wait_for(admin.list_topics(), 5)
        except Exception:
            return False
        finally:
            await admin.close()
        return True
