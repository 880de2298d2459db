"""A group committed past the log end (the cluster was rebuilt on fresh storage): the
runner notices, says so, rewinds to the log start and reads every record of the new log.
Run against the in-memory twin and a real Kafka broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection

import pytest

from shared import Event, MessageContext, RebalanceCallbacks, Router, TopicPartition, Transport
from tests.support.harness import Harness, Thing, stop_runner
from tests.support.waiting import eventually


@pytest.fixture
async def harness(transport: Transport, unique: str) -> AsyncIterator[Harness]:
    h = Harness(transport, f"test.loss.{unique}")
    await h.start(partitions=2)
    yield h
    await h.close()


async def _commit_beyond_end(transport: Transport, group: str, topic: str, offset: int) -> None:
    """Commit `offset` on every partition of `topic` for `group`, as a member would have
    before the broker lost its log."""
    consumer = transport.consumer(group_id=group, client_id="committer", max_poll_records=1)

    async def nothing(_: Collection[TopicPartition]) -> None:
        return None

    consumer.subscribe_with([topic], RebalanceCallbacks(nothing, nothing))
    await consumer.start()
    try:

        async def assigned() -> bool:
            await consumer.getmany(timeout_ms=100)
            return len(consumer.assignment()) == 2

        await eventually(assigned, timeout=30, message="both partitions assigned")
        await consumer.commit(dict.fromkeys(consumer.assignment(), offset))
    finally:
        await consumer.stop()


async def test_a_group_committed_beyond_the_log_end_rewinds_and_reads_the_new_log(
    harness: Harness, unique: str
) -> None:
    group = f"loss-{unique}"
    await _commit_beyond_end(harness.transport, group, harness.topic, 1_000)
    assert await harness.committed_total(group) == 2_000
    events = [Thing(thing_id=f"thing-{i % 4}", n=i) for i in range(12)]
    await harness.publish(events)

    seen: list[int] = []

    async def record(event: Event, ctx: MessageContext) -> None:
        assert isinstance(event, Thing)
        seen.append(event.n)

    router = Router()
    router.route(Thing, record)
    runner = harness.runner(group, router)
    task = asyncio.create_task(runner.run())
    try:
        await eventually(lambda: len(seen) >= 12, timeout=30, message="the new log is read")
        # What it reads, it commits: the offsets are back inside the log.
        await eventually(
            lambda: _committed_at_most(harness, group, 12), timeout=30, message="recommitted"
        )
    finally:
        await stop_runner(runner, task)

    assert sorted(seen) == list(range(12))
    assert "committed offset is beyond the log end" in harness.log_stream.getvalue()


async def _committed_at_most(harness: Harness, group: str, total: int) -> bool:
    return await harness.committed_total(group) <= total
