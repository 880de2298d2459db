"""Reading offsets for operators: what groups committed and where partitions begin and end.

`OffsetReader` is the port the status views and the ops commands read through. The Kafka
adapter opens one admin client and one group-less consumer per call, so it never joins,
disturbs or commits for any group; the transport adapter serves the in-memory twin, whose
logs are never truncated (every partition begins at 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from shared._transport import KafkaTransport, TopicPartition, Transport

__all__ = ["KafkaOffsetReader", "OffsetReader", "OffsetSnapshot", "offset_reader"]


@dataclass(frozen=True, slots=True)
class OffsetSnapshot:
    """Offsets read at one moment.

    `committed[group][tp]` is the group's next offset to read (absent: never committed);
    `low[tp]` / `high[tp]` are the first retained offset and the end of every partition of
    the topics asked for; `missing` names the topics that do not exist.
    """

    committed: Mapping[str, Mapping[TopicPartition, int]]
    low: Mapping[TopicPartition, int]
    high: Mapping[TopicPartition, int]
    missing: frozenset[str] = frozenset()

    def partitions(self, topic: str) -> list[TopicPartition]:
        return sorted((tp for tp in self.high if tp.topic == topic), key=lambda tp: tp.partition)


class OffsetReader(Protocol):
    async def snapshot(self, groups: Sequence[str], topics: Sequence[str]) -> OffsetSnapshot:
        """The committed offsets of `groups` and the bounds of every partition of `topics`.

        Raises whatever the client raises when the cluster cannot be reached.
        """
        ...


class KafkaOffsetReader:
    """`OffsetReader` on a real cluster (admin client + a consumer without a group)."""

    def __init__(self, bootstrap_servers: str, *, request_timeout_ms: int = 10_000) -> None:
        self.bootstrap_servers = bootstrap_servers
        self._timeout_ms = request_timeout_ms

    async def snapshot(self, groups: Sequence[str], topics: Sequence[str]) -> OffsetSnapshot:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap_servers, request_timeout_ms=self._timeout_ms
        )
        try:
            await admin.start()
            committed = {group: await _group_offsets(admin, group) for group in groups}
            # Describing a topic by name asks for metadata that auto-creates it on brokers
            # with auto-create on: list first (which never creates), describe what exists.
            existing = set(await admin.list_topics()) if topics else set()
            wanted = [t for t in topics if t in existing]
            described = await admin.describe_topics(wanted) if wanted else []
        finally:
            # Also when start() was cancelled half-way (a status call's deadline).
            await admin.close()
        partitions = [
            TopicPartition(str(topic["topic"]), int(part["partition"]))
            for topic in described
            if not topic.get("error_code")
            for part in topic.get("partitions", [])
        ]
        found = {tp.topic for tp in partitions}
        missing = frozenset(t for t in topics if t not in found)
        if not partitions:
            return OffsetSnapshot(committed, {}, {}, missing)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            enable_auto_commit=False,
            request_timeout_ms=self._timeout_ms,
        )
        try:
            await consumer.start()
            low: dict[TopicPartition, int] = await consumer.beginning_offsets(partitions)
            high: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        finally:
            await consumer.stop()
        return OffsetSnapshot(committed, low, high, missing)


async def _group_offsets(admin: AIOKafkaAdminClient, group: str) -> dict[TopicPartition, int]:
    offsets = await admin.list_consumer_group_offsets(group)
    return {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}


class _TransportOffsetReader:
    """`OffsetReader` on a `Transport`'s own offset queries (the in-memory twin)."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def snapshot(self, groups: Sequence[str], topics: Sequence[str]) -> OffsetSnapshot:
        committed = {group: await self._transport.group_offsets(group) for group in groups}
        high = await self._transport.end_offsets(topics) if topics else {}
        found = {tp.topic for tp in high}
        missing = frozenset(t for t in topics if t not in found)
        return OffsetSnapshot(committed, dict.fromkeys(high, 0), high, missing)


def offset_reader(transport: Transport) -> OffsetReader:
    """The reader for the cluster `transport` talks to."""
    if isinstance(transport, KafkaTransport):
        return KafkaOffsetReader(transport.bootstrap_servers)
    return _TransportOffsetReader(transport)
