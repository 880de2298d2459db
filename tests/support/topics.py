"""Reading what landed on a topic, for assertions."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from shared import RebalanceCallbacks, TopicPartition, Transport
from tests.support.waiting import eventually


async def read_topic(
    transport: Transport, topic: str, expected: int, *, timeout: float = 30
) -> list[Any]:
    """At least `expected` records of `topic`, read from the start by a throwaway group."""
    consumer = transport.consumer(
        group_id=f"reader-{uuid.uuid4().hex[:8]}", client_id="test-reader", max_poll_records=1000
    )

    async def nothing(_: Collection[TopicPartition]) -> None:
        return None

    consumer.subscribe_with([topic], RebalanceCallbacks(nothing, nothing))
    await consumer.start()
    records: list[Any] = []
    try:

        async def more() -> bool:
            batch = await consumer.getmany(timeout_ms=200)
            for recs in batch.values():
                records.extend(recs)
            return len(records) >= expected

        await eventually(more, timeout=timeout, message=f"{expected} records on {topic}")
    finally:
        await consumer.stop()
    return records


def header(record: Any, name: str) -> str | None:
    for key, value in record.headers:
        if key == name:
            return bytes(value).decode()
    return None
