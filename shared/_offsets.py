"""Reading offsets for operators: what groups committed and where partitions begin and end.

`OffsetReader` is the port the status views and the ops commands read through. It reads
through the transport's `ClusterOps` (on Kafka, one admin client and one group-less
consumer per call, so it never joins, disturbs or commits for any group; on the in-memory
twin, whose logs are never truncated, every partition begins at 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from shared._transport import ClusterOps, KafkaTransport, TopicPartition, Transport

__all__ = [
    "KafkaOffsetReader",
    "OffsetReader",
    "OffsetSnapshot",
    "TransportOffsetReader",
    "offset_reader",
]


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


class TransportOffsetReader:
    """`OffsetReader` on a transport's `ClusterOps` (real or in-memory)."""

    def __init__(self, ops: ClusterOps) -> None:
        self._ops = ops

    async def snapshot(self, groups: Sequence[str], topics: Sequence[str]) -> OffsetSnapshot:
        committed = {group: await self._ops.group_offsets(group) for group in groups}
        found = await self._ops.partitions_of(topics) if topics else {}
        missing = frozenset(t for t in topics if t not in found)
        partitions = [tp for tps in found.values() for tp in tps]
        if not partitions:
            return OffsetSnapshot(committed, {}, {}, missing)
        low, high = await self._ops.offset_bounds(partitions)
        return OffsetSnapshot(committed, low, high, missing)


class KafkaOffsetReader(TransportOffsetReader):
    """`OffsetReader` on a real cluster (admin client + a consumer without a group)."""

    def __init__(self, bootstrap_servers: str, *, request_timeout_ms: int = 10_000) -> None:
        super().__init__(KafkaTransport(bootstrap_servers, request_timeout_ms=request_timeout_ms))
        self.bootstrap_servers = bootstrap_servers


class _EndOffsetReader:
    """`OffsetReader` on a bare `Transport` (one without `ClusterOps`, e.g. a test double)."""

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
    if isinstance(transport, ClusterOps):
        return TransportOffsetReader(transport)
    return _EndOffsetReader(transport)
