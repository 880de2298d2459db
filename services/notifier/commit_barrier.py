"""Offsets committed only after the handlers' effects are durable, however they batch.

The notifier's Kafka handlers hand their deliveries to the write-behind writer and return
(:meth:`Dispatcher.hand_over`), so a partition's records are not each held up by a
transaction. What the runner's contract needs, that an offset is committed only after its
record's effect, is restored here, at the one place every commit passes: the consumer
client. :class:`DurableCommits` wraps the transport so that each ``commit`` (periodic, on
revocation, at shutdown) first awaits ``durable()``: everything handed over before the
commit is stored, so a kill loses nothing that was committed, and what was not committed is
read again and de-duplicated (subscription x event id) by the store.

It relies only on the transport port (``Transport.consumer`` and ``ConsumerClient.commit``),
so it holds whatever the runner does between poll and commit (record by record today,
batch by batch once the runner batches). It must not be combined with a runner-side
de-duplication store that marks an event done when its handler returns.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from shared import (
    ConsumerClient,
    ProducerClient,
    RebalanceCallbacks,
    TopicPartition,
    TopicSpec,
    Transport,
)

Durable = Callable[[], Awaitable[None]]


class DurableCommits:
    """A :class:`Transport` whose consumers await ``durable()`` before each commit."""

    def __init__(self, inner: Transport, durable: Durable) -> None:
        self._inner = inner
        self._durable = durable

    def producer(self, *, client_id: str, linger_ms: int = 5) -> ProducerClient:
        return self._inner.producer(client_id=client_id, linger_ms=linger_ms)

    def consumer(self, *, group_id: str, client_id: str, max_poll_records: int) -> ConsumerClient:
        inner = self._inner.consumer(
            group_id=group_id, client_id=client_id, max_poll_records=max_poll_records
        )
        return _DurableCommitConsumer(inner, self._durable)

    async def ensure_topics(self, specs: Sequence[TopicSpec]) -> None:
        await self._inner.ensure_topics(specs)

    async def ping(self) -> bool:
        return await self._inner.ping()

    async def group_offsets(self, group_id: str) -> dict[TopicPartition, int]:
        return await self._inner.group_offsets(group_id)

    async def end_offsets(self, topics: Sequence[str]) -> dict[TopicPartition, int]:
        return await self._inner.end_offsets(topics)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _DurableCommitConsumer:
    def __init__(self, inner: ConsumerClient, durable: Durable) -> None:
        self._inner = inner
        self._durable = durable

    async def commit(self, offsets: dict[TopicPartition, int] | None = None) -> None:
        await self._durable()
        await self._inner.commit(offsets)

    async def start(self) -> None:
        await self._inner.start()

    async def stop(self) -> None:
        await self._inner.stop()

    def subscribe_with(self, topics: Sequence[str], callbacks: RebalanceCallbacks) -> None:
        self._inner.subscribe_with(topics, callbacks)

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[Any]]:
        return await self._inner.getmany(
            *partitions, timeout_ms=timeout_ms, max_records=max_records
        )

    async def committed(self, partition: TopicPartition) -> int | None:
        return await self._inner.committed(partition)

    def assignment(self) -> set[TopicPartition]:
        return self._inner.assignment()

    def highwater(self, partition: TopicPartition) -> int | None:
        return self._inner.highwater(partition)

    async def position(self, partition: TopicPartition) -> int:
        return await self._inner.position(partition)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self._inner.seek(partition, offset)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
