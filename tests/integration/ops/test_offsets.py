"""Lag from the real broker's offsets, and `ta-bridge replay` moving a stopped group."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer

from services.cli import main
from services.ops.offset_reset import GroupActive, reset_offsets
from shared import (
    KafkaOffsetReader,
    KafkaTransport,
    RebalanceCallbacks,
    TopicPartition,
    TopicSpec,
    consumer_lag,
    offset_reader,
)

pytestmark = pytest.mark.kafka

T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


async def _produce(transport: KafkaTransport, topic: str, plan: dict[int, list[int]]) -> None:
    """Write to each partition one record per timestamp (ms after T0) listed for it."""
    producer = transport.producer(client_id="tests")
    await producer.start()
    try:
        futures = [
            await producer.send(topic, b"x", partition=p, timestamp_ms=T0_MS + offset_ms)
            for p, stamps in plan.items()
            for offset_ms in stamps
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _commit(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    # Auto-commit off: on stop it would commit the consumer's own (latest) positions.
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


async def test_lag_per_partition_is_end_minus_committed(kafka_bootstrap: str, unique: str) -> None:
    transport = KafkaTransport(kafka_bootstrap)
    topic, group = f"ops-lag-{unique}", f"ops-lag-{unique}"
    await transport.ensure_topics([TopicSpec(topic, 3)])
    await _produce(transport, topic, {0: [1, 2, 3, 4, 5], 1: [1, 2, 3]})
    await _commit(kafka_bootstrap, group, {TopicPartition(topic, 0): 2})
    reader = offset_reader(transport)
    assert isinstance(reader, KafkaOffsetReader)

    snapshot = await reader.snapshot([group], [topic, f"{topic}.missing.dlq"])
    lag = consumer_lag(snapshot, group, [topic])

    assert [(p.partition, p.committed, p.end, p.lag) for p in lag.partitions] == [
        (0, 2, 5, 3),
        (1, None, 3, 3),
        (2, None, 0, 0),
    ]
    assert lag.total == 6
    assert snapshot.missing == frozenset({f"{topic}.missing.dlq"})


async def test_replay_moves_a_stopped_group_to_the_first_offset_at_a_time(
    kafka_bootstrap: str, unique: str, capsys: pytest.CaptureFixture[str]
) -> None:
    transport = KafkaTransport(kafka_bootstrap)
    topic, group = f"ops-replay-{unique}", f"ops-replay-{unique}"
    await transport.ensure_topics([TopicSpec(topic, 2)])
    # Partition 0 has records at +0s, +10s, +20s; partition 1 at +0s and +5s.
    await _produce(transport, topic, {0: [0, 10_000, 20_000], 1: [0, 5_000]})
    p0, p1 = TopicPartition(topic, 0), TopicPartition(topic, 1)
    await _commit(kafka_bootstrap, group, {p0: 3, p1: 2})
    since = datetime.fromtimestamp((T0_MS + 8_000) / 1000, UTC)

    dry = await reset_offsets(kafka_bootstrap, group, topic, since, dry_run=True)
    assert [(m.partition, m.before, m.after) for m in dry] == [(0, 3, 1), (1, 2, 2)]
    assert await transport.group_offsets(group) == {p0: 3, p1: 2}, "a dry run commits nothing"

    code = await asyncio.to_thread(
        main,
        [
            "replay",
            "--group",
            group,
            "--topic",
            topic,
            "--since",
            since.isoformat(),
            "--bootstrap",
            kafka_bootstrap,
            "--json",
        ],
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert [(p["partition"], p["after"], p["to_read"]) for p in printed["partitions"]] == [
        (0, 1, 2),
        (1, 2, 0),
    ]
    assert await transport.group_offsets(group) == {p0: 1, p1: 2}

    # Back to the start of the topic.
    moves = await reset_offsets(
        kafka_bootstrap, group, topic, datetime.fromtimestamp(T0_MS / 1000 - 1, UTC)
    )
    assert [m.after for m in moves] == [0, 0]
    assert await transport.group_offsets(group) == {p0: 0, p1: 0}


async def test_replay_refuses_a_group_with_active_members(
    kafka_bootstrap: str, unique: str
) -> None:
    transport = KafkaTransport(kafka_bootstrap)
    topic, group = f"ops-busy-{unique}", f"ops-busy-{unique}"
    await transport.ensure_topics([TopicSpec(topic, 1)])
    member = transport.consumer(group_id=group, client_id="member", max_poll_records=10)
    assigned = asyncio.Event()

    async def on_assigned(partitions: Collection[TopicPartition]) -> None:
        assigned.set()

    async def on_revoked(partitions: Collection[TopicPartition]) -> None:
        return None

    member.subscribe_with([topic], RebalanceCallbacks(on_revoked, on_assigned))
    await member.start()
    try:
        fetch = asyncio.create_task(member.getmany(timeout_ms=10_000))
        await asyncio.wait_for(assigned.wait(), 60)
        with pytest.raises(GroupActive, match="1 member"):
            await reset_offsets(kafka_bootstrap, group, topic, datetime.now(UTC))
        fetch.cancel()
        await asyncio.gather(fetch, return_exceptions=True)
    finally:
        await member.stop()


async def test_looking_at_a_missing_topic_does_not_create_it(
    kafka_bootstrap: str, unique: str
) -> None:
    # The broker auto-creates topics that metadata requests name: status, `dlq list` and
    # `replay` must report a missing DLQ as missing, not bring it into being.
    topic = f"ops-missing-{unique}.dlq"
    snapshot = await KafkaOffsetReader(kafka_bootstrap).snapshot([], [topic])
    transport = KafkaTransport(kafka_bootstrap)
    assert topic in snapshot.missing
    assert await transport.end_offsets([topic]) == {}
    assert await KafkaOffsetReader(kafka_bootstrap).snapshot([], [topic]) == snapshot
