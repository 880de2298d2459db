"""End offsets of topics, for knowing when a replay has caught up.

`shared.KafkaTransport.end_offsets` reads partitions from a fresh consumer's cached
metadata, which is empty, so on a real broker it answers `{}` for any topic. Until the
shared core is fixed, an empty answer from a Kafka transport is retried here with the
partitions described by the admin client. Every topic has at least one partition, so an
empty answer for an existing topic is never right.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from shared import KafkaTransport, TopicPartition, Transport

__all__ = ["end_offsets"]


async def end_offsets(transport: Transport, topics: Sequence[str]) -> dict[TopicPartition, int]:
    """The high watermark of every partition of `topics` (missing topics: none)."""
    ends = await transport.end_offsets(topics)
    if ends or not isinstance(transport, KafkaTransport):
        return ends
    return await _described_ends(transport.bootstrap_servers, topics)


async def _described_ends(bootstrap: str, topics: Sequence[str]) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    partitions = [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        if topic["error_code"] == 0
        for partition in topic["partitions"]
    ]
    if not partitions:
        return {}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        found: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return found
