"""An in-memory Kafka twin with the semantics the event core relies on.

Partitioned append-only logs, keys hashed to partitions, consumer groups whose members
share the partitions (with revoke/assign callbacks on every join and leave), committed
offsets per group, `earliest` reset, and commits refused for partitions a member no longer
owns. It is for fast unit tests; the same behaviour suite also runs on a real broker.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shared._errors import RetryableError
from shared._transport import (
    BrokerUnavailable,
    CommitRefused,
    ConsumerClient,
    OutRecord,
    ProducerClient,
    RebalanceCallbacks,
    Record,
    TopicPartition,
    TopicSpec,
)

__all__ = ["MemoryBroker", "MemoryMetadata", "MemoryRecord", "MemoryTransport"]


@dataclass(frozen=True, slots=True)
class MemoryRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    timestamp: int


@dataclass(frozen=True, slots=True)
class MemoryMetadata:
    """What a delivery future resolves to (the fields of aiokafka's RecordMetadata)."""

    topic: str
    partition: int
    topic_partition: TopicPartition
    offset: int
    timestamp: int


@dataclass
class _Group:
    members: list[MemoryConsumer] = field(default_factory=list)
    committed: dict[TopicPartition, int] = field(default_factory=dict)


class MemoryBroker:
    """The shared state of one in-memory cluster."""

    def __init__(self, default_partitions: int = 3) -> None:
        self.default_partitions = default_partitions
        self._logs: dict[str, list[list[MemoryRecord]]] = {}
        self._groups: dict[str, _Group] = {}
        self._arrived = asyncio.Event()
        self._waiting = 0
        self.available = True

    def create_topic(self, name: str, partitions: int | None = None) -> None:
        if name not in self._logs:
            self._logs[name] = [[] for _ in range(partitions or self.default_partitions)]

    def has_topic(self, name: str) -> bool:
        return name in self._logs

    def partitions_of(self, topic: str) -> int:
        self.create_topic(topic)
        return len(self._logs[topic])

    def records(self, topic: str) -> list[MemoryRecord]:
        """Every record of `topic`, partition by partition (for assertions)."""
        return [r for log in self._logs.get(topic, []) for r in log]

    def append(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]],
        partition: int | None,
    ) -> MemoryRecord:
        self.create_topic(topic)
        logs = self._logs[topic]
        if partition is None:
            partition = zlib.crc32(key) % len(logs) if key is not None else 0
        log = logs[partition]
        record = MemoryRecord(
            topic, partition, len(log), key, value, tuple(headers), int(time.time() * 1000)
        )
        log.append(record)
        if self._waiting:
            # Wake whoever waits for data; a fresh event for the next wait.
            self._arrived.set()
            self._arrived = asyncio.Event()
        return record

    def read(self, tp: TopicPartition, offset: int, limit: int) -> list[MemoryRecord]:
        logs = self._logs.get(tp.topic)
        if logs is None or tp.partition >= len(logs):
            return []
        return logs[tp.partition][offset : offset + limit]

    def highwater(self, tp: TopicPartition) -> int:
        logs = self._logs.get(tp.topic)
        return len(logs[tp.partition]) if logs and tp.partition < len(logs) else 0

    async def wait_for_data(self, seconds: float) -> None:
        self._waiting += 1
        try:
            await asyncio.wait_for(self._arrived.wait(), seconds)
        except TimeoutError:
            return
        finally:
            self._waiting -= 1

    def group(self, group_id: str) -> _Group:
        return self._groups.setdefault(group_id, _Group())

    def committed(self, group_id: str, tp: TopicPartition) -> int | None:
        return self.group(group_id).committed.get(tp)

    async def rebalance(self, group_id: str) -> None:
        group = self.group(group_id)
        for member in group.members:
            await member.revoke_all()
        topics = sorted({t for m in group.members for t in m.topics})
        partitions = [TopicPartition(t, p) for t in topics for p in range(self.partitions_of(t))]
        members = itertools.cycle(group.members) if group.members else None
        plan: dict[int, list[TopicPartition]] = {id(m): [] for m in group.members}
        for tp in partitions:
            assert members is not None
            for member in members:
                if tp.topic in member.topics:
                    plan[id(member)].append(tp)
                    break
        for member in group.members:
            await member.assign(plan[id(member)])


class MemoryProducer:
    def __init__(self, broker: MemoryBroker) -> None:
        self._broker = broker
        self._started = False

    async def start(self) -> None:
        self._started = True

    async def stop(self) -> None:
        self._started = False

    async def flush(self) -> None:
        return None

    async def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: Sequence[tuple[str, bytes]] | None = None,
    ) -> asyncio.Future[Any]:
        if not self._started:
            raise RuntimeError("producer is not started")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if not self._broker.available:
            future.set_exception(BrokerUnavailable("in-memory broker is down"))
            return future
        record = self._broker.append(topic, key, value, headers or (), partition)
        tp = TopicPartition(topic, record.partition)
        future.set_result(
            MemoryMetadata(topic, record.partition, tp, record.offset, record.timestamp)
        )
        return future

    async def send_many(self, records: Sequence[OutRecord]) -> list[asyncio.Future[Any]]:
        return [
            await self.send(topic, value=value, key=key, headers=headers)
            for topic, key, value, headers in records
        ]


class MemoryConsumer:
    def __init__(self, broker: MemoryBroker, group_id: str) -> None:
        self._broker = broker
        self._group_id = group_id
        self.topics: tuple[str, ...] = ()
        self._callbacks: RebalanceCallbacks | None = None
        self._positions: dict[TopicPartition, int] = {}

    def subscribe_with(self, topics: Sequence[str], callbacks: RebalanceCallbacks) -> None:
        self.topics = tuple(topics)
        self._callbacks = callbacks

    async def start(self) -> None:
        return None

    async def _join(self) -> None:
        group = self._broker.group(self._group_id)
        if self not in group.members:
            group.members.append(self)
            await self._broker.rebalance(self._group_id)

    async def stop(self) -> None:
        group = self._broker.group(self._group_id)
        if self in group.members:
            await self.revoke_all()
            group.members.remove(self)
            await self._broker.rebalance(self._group_id)

    async def revoke_all(self) -> None:
        if self._positions and self._callbacks is not None:
            await self._callbacks.on_revoked(set(self._positions))
        self._positions = {}

    async def assign(self, partitions: list[TopicPartition]) -> None:
        self._positions = {tp: self._broker.committed(self._group_id, tp) or 0 for tp in partitions}
        if self._callbacks is not None:
            await self._callbacks.on_assigned(set(partitions))

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[Any]]:
        await self._join()
        deadline = time.monotonic() + timeout_ms / 1000
        limit = max_records or 500
        while True:
            batch: dict[TopicPartition, list[Any]] = {}
            for tp, position in list(self._positions.items()):
                if partitions and tp not in partitions:
                    continue
                records = self._broker.read(tp, position, limit)
                if records:
                    batch[tp] = list(records)
                    self._positions[tp] = position + len(records)
                    limit -= len(records)
                if limit <= 0:
                    break
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0:
                return batch
            await self._broker.wait_for_data(remaining)

    async def commit(self, offsets: dict[TopicPartition, int] | None = None) -> None:
        offsets = offsets if offsets is not None else dict(self._positions)
        for tp in offsets:
            if tp not in self._positions:
                raise CommitRefused(f"{tp} is not assigned to this member")
        self._broker.group(self._group_id).committed.update(offsets)

    async def committed(self, partition: TopicPartition) -> int | None:
        return self._broker.committed(self._group_id, partition)

    def assignment(self) -> set[TopicPartition]:
        return set(self._positions)

    def highwater(self, partition: TopicPartition) -> int | None:
        return self._broker.highwater(partition)

    async def position(self, partition: TopicPartition) -> int:
        return self._positions[partition]

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self._positions[partition] = offset


class MemoryTransport:
    """Builds clients on a `MemoryBroker`; the twin of `KafkaTransport`."""

    def __init__(self, broker: MemoryBroker | None = None) -> None:
        self.broker = broker or MemoryBroker()

    def producer(self, *, client_id: str, linger_ms: int = 5) -> ProducerClient:
        return MemoryProducer(self.broker)

    def consumer(self, *, group_id: str, client_id: str, max_poll_records: int) -> ConsumerClient:
        return MemoryConsumer(self.broker, group_id)

    async def ensure_topics(self, specs: Sequence[TopicSpec]) -> None:
        for spec in specs:
            self.broker.create_topic(spec.name, spec.partitions)

    async def ping(self) -> bool:
        return self.broker.available

    async def group_offsets(self, group_id: str) -> dict[TopicPartition, int]:
        return dict(self.broker.group(group_id).committed)

    async def end_offsets(self, topics: Sequence[str]) -> dict[TopicPartition, int]:
        return {
            TopicPartition(topic, p): self.broker.highwater(TopicPartition(topic, p))
            for topic in topics
            for p in range(self.broker.partitions_of(topic))
        }

    # -- ClusterOps: what operators read and change ------------------------------------

    async def partitions_of(self, topics: Sequence[str]) -> dict[str, list[TopicPartition]]:
        broker = self.broker
        return {
            topic: [TopicPartition(topic, p) for p in range(broker.partitions_of(topic))]
            for topic in topics
            if broker.has_topic(topic)
        }

    async def offset_bounds(
        self, partitions: Sequence[TopicPartition]
    ) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
        # The twin's logs are never truncated: every partition begins at 0.
        return dict.fromkeys(partitions, 0), {tp: self.broker.highwater(tp) for tp in partitions}

    async def offsets_for_times(
        self, partitions: Sequence[TopicPartition], timestamp_ms: int
    ) -> dict[TopicPartition, int | None]:
        found: dict[TopicPartition, int | None] = {}
        for tp in partitions:
            log = self.broker.read(tp, 0, self.broker.highwater(tp))
            found[tp] = next((r.offset for r in log if r.timestamp >= timestamp_ms), None)
        return found

    async def describe_group(self, group_id: str) -> tuple[str, int]:
        group = self.broker.group(group_id)
        if group.members:
            return "Stable", len(group.members)
        return ("Empty" if group.committed else "Dead"), 0

    async def commit_group_offsets(self, group_id: str, offsets: dict[TopicPartition, int]) -> None:
        group = self.broker.group(group_id)
        if group.members:
            raise CommitRefused(f"group {group_id!r} has {len(group.members)} member(s)")
        group.committed.update(offsets)

    async def read_ranges(
        self,
        ranges: dict[TopicPartition, tuple[int, int]],
        *,
        limit: int | None = None,
        poll_ms: int = 500,
        within: float = 120.0,
    ) -> list[Record]:
        if not self.broker.available:
            raise RetryableError("in-memory broker is down")
        found: list[Record] = []
        for tp, (start, end) in ranges.items():
            count = max(0, end - start)
            if limit is not None:
                count = min(count, limit)
            found.extend(self.broker.read(tp, start, count))
        return found
