"""Reading a dead-letter topic without disturbing it: `ta-bridge dlq list`.

The reader has no consumer group (`ClusterOps.read_ranges`): it assigns every partition
itself, so it never commits, never joins a group, and leaves the topic exactly as it was.
It reads up to the end each partition had when the read began (records written meanwhile
wait for the next read).

A dead letter carries the original record (key, value, CloudEvents headers) followed by
`dlq.*` headers (see `shared.dead_letter_headers`; the notifier's webhook DLQ adds its own
`dlq.webhook.*` and `dlq.subscription.*` ones and names no original topic).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.ops.moments import epoch_ms
from shared import (
    DLQ_SUFFIX,
    ClusterOps,
    KafkaTransport,
    NotFound,
    Record,
    RetryableError,
    TopicPartition,
    TransportOffsetReader,
)

__all__ = ["DeadLetter", "read_dead_letters"]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> str | None:
        """The last value of header `name`, decoded (None when absent)."""
        found = None
        for key, value in self.headers:
            if key == name:
                found = value.decode("utf-8", "replace")
        return found

    @property
    def original_topic(self) -> str | None:
        return self.header("dlq.original.topic")

    @property
    def event_id(self) -> str | None:
        return self.header("ce_id") or self.header("dlq.webhook.id")

    @property
    def written_at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)

    def original_headers(self) -> list[tuple[str, bytes]]:
        """The headers of the record as it was first published: without the `dlq.*` ones."""
        return [(k, v) for k, v in self.headers if not k.startswith("dlq.")]

    def as_json(self) -> dict[str, Any]:
        value = self.value or b""
        return {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "written_at": self.written_at.isoformat(),
            "key": self.key.decode("utf-8", "replace") if self.key is not None else None,
            "event_id": self.event_id,
            "event_type": self.header("ce_type") or self.header("dlq.webhook.type"),
            "original": {
                "topic": self.original_topic,
                "partition": self.header("dlq.original.partition"),
                "offset": self.header("dlq.original.offset"),
            },
            "error": {
                "type": self.header("dlq.error.type"),
                "message": self.header("dlq.error.message"),
                "group": self.header("dlq.consumer.group"),
                "attempts": self.header("dlq.attempts"),
                "failed_at": self.header("dlq.failed_at"),
            },
            "headers": {k: v.decode("utf-8", "replace") for k, v in self.headers},
            "value": value.decode("utf-8", "replace"),
        }


async def read_dead_letters(
    kafka: str | ClusterOps,
    topic: str,
    *,
    since: datetime | None = None,
    limit: int | None = None,
    poll_ms: int = 500,
    within: float = 120.0,
) -> list[DeadLetter]:
    """The dead letters of `topic` written at or after `since`, oldest first, at most `limit`.

    `kafka` is a bootstrap address or a transport (the in-memory twin in tests).

    Raises:
        NotFound: the topic does not exist, or its name does not end in `.dlq`.
        RetryableError: the partitions were not read to their end within `within` seconds.
    """
    if not topic.endswith(DLQ_SUFFIX):
        raise NotFound(f"{topic!r} is not a dead-letter topic (those end in {DLQ_SUFFIX!r})")
    ops = KafkaTransport(kafka) if isinstance(kafka, str) else kafka
    snapshot = await TransportOffsetReader(ops).snapshot([], [topic])
    if topic in snapshot.missing:
        raise NotFound(f"topic {topic!r} does not exist")
    partitions = snapshot.partitions(topic)
    ends = {tp: snapshot.high[tp] for tp in partitions}
    starts = await _starts(ops, partitions, snapshot.low, ends, since)
    try:
        records = await ops.read_ranges(
            {tp: (starts[tp], ends[tp]) for tp in partitions},
            limit=limit,
            poll_ms=poll_ms,
            within=within,
        )
    except RetryableError as exc:
        raise RetryableError(f"{topic} was not read to its end within {within:g}s") from exc
    found = [_letter(record) for record in records]
    found.sort(key=lambda d: (d.timestamp_ms, d.partition, d.offset))
    return found if limit is None else found[:limit]


async def _starts(
    ops: ClusterOps,
    partitions: Sequence[TopicPartition],
    low: Mapping[TopicPartition, int],
    ends: Mapping[TopicPartition, int],
    since: datetime | None,
) -> dict[TopicPartition, int]:
    """Where to start reading each partition: its first record, or the first at `since`."""
    if since is None:
        return {tp: low.get(tp, 0) for tp in partitions}
    found = await ops.offsets_for_times(partitions, epoch_ms(since))
    # No record at or after `since`: start at the end, so nothing is read.
    return {tp: offset if (offset := found.get(tp)) is not None else ends[tp] for tp in partitions}


def _letter(record: Record) -> DeadLetter:
    return DeadLetter(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        timestamp_ms=record.timestamp,
        key=record.key,
        value=record.value,
        # Kafka allows a header without a value; keep it, as an empty one.
        headers=tuple((k, bytes(v) if v is not None else b"") for k, v in record.headers),
    )
