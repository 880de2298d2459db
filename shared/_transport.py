"""The narrow ports the event core needs from a Kafka client, and the real adapters.

`EventPublisher`, `ConsumerRunner`, the status views and the ops commands talk only to
these protocols, so the in-memory twin (`shared._memory_broker`) and aiokafka serve the
same code and the same behaviour suite. This is the one module that imports aiokafka: its
errors are translated here, at the port (as httpx's `map_httpcore_exceptions` does), into
`TransportError` and its kinds, so nothing above depends on the driver.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka import errors as kafka_errors
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.partitioner import murmur2
from aiokafka.structs import TopicPartition

from shared._errors import RetryableError

__all__ = [
    "BatchProducerClient",
    "BrokerUnavailable",
    "ClusterOps",
    "CommitRefused",
    "ConsumerClient",
    "KafkaTransport",
    "KeyPartitioner",
    "OutRecord",
    "ProducerClient",
    "RebalanceCallbacks",
    "Record",
    "TopicPartition",
    "TopicSpec",
    "Transport",
    "TransportError",
    "delivered",
    "map_kafka_errors",
]


class TransportError(RetryableError):
    """The cluster refused or failed a request (any driver error, translated)."""

    code = "transport"


class BrokerUnavailable(TransportError):
    """No broker answered in time: connection refused, timed out, no leader yet."""

    code = "broker_unavailable"


class CommitRefused(TransportError):
    """An offset commit was refused: the group rebalanced, or the member does not own the
    partitions (or, for an operator's commit, the group has active members)."""

    code = "commit_refused"


_UNAVAILABLE = (
    kafka_errors.KafkaConnectionError,
    kafka_errors.NodeNotReadyError,
    kafka_errors.NoBrokersAvailable,
    kafka_errors.KafkaTimeoutError,
    kafka_errors.RequestTimedOutError,
    kafka_errors.LeaderNotAvailableError,
    kafka_errors.NotLeaderForPartitionError,
    kafka_errors.CoordinatorNotAvailableError,
    kafka_errors.NotCoordinatorError,
)
_COMMIT_REFUSED = (
    kafka_errors.CommitFailedError,
    kafka_errors.IllegalStateError,
    kafka_errors.RebalanceInProgressError,
    kafka_errors.IllegalGenerationError,
    kafka_errors.UnknownMemberIdError,
)


def translate_error(exc: BaseException) -> BaseException:
    """The port's error for a driver error; anything else is returned as it is."""
    if not isinstance(exc, kafka_errors.KafkaError):
        return exc
    kind: type[TransportError]
    if isinstance(exc, _COMMIT_REFUSED):
        kind = CommitRefused
    elif isinstance(exc, _UNAVAILABLE):
        kind = BrokerUnavailable
    else:
        kind = TransportError
    translated = kind(f"{type(exc).__name__}: {exc}")
    translated.__cause__ = exc
    return translated


@contextlib.contextmanager
def map_kafka_errors() -> Iterator[None]:
    """Raise driver errors raised inside as `TransportError`s."""
    try:
        yield
    except kafka_errors.KafkaError as exc:
        raise translate_error(exc) from exc


async def delivered(futures: Iterable[Awaitable[Any]]) -> list[Any]:
    """Wait for delivery futures (`ProducerClient.send`'s); a failure as a TransportError."""
    try:
        return list(await asyncio.gather(*futures))
    except kafka_errors.KafkaError as exc:
        raise translate_error(exc) from exc


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


OutRecord = tuple[str, bytes | None, bytes | None, Sequence[tuple[str, bytes]]]
"""A record to produce: (topic, key, value, headers)."""


@runtime_checkable
class BatchProducerClient(Protocol):
    """A producer that also takes many records at once (`send_many`)."""

    async def send_many(self, records: Sequence[OutRecord]) -> list[asyncio.Future[Any]]:
        """Enqueue `records` in order (per partition, as `send` would place them).

        Returns delivery futures, one per batch the records went out in (not one per
        record); each resolves on the broker's acknowledgement of its batch.
        """
        ...


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


@runtime_checkable
class ClusterOps(Protocol):
    """What operators' views and commands read and change, without joining any group.

    Both transports provide it; none of these calls creates a topic.
    """

    async def partitions_of(self, topics: Sequence[str]) -> dict[str, list[TopicPartition]]:
        """The partitions of each topic that exists (missing topics are left out)."""
        ...

    async def group_offsets(self, group_id: str) -> dict[TopicPartition, int]: ...

    async def offset_bounds(
        self, partitions: Sequence[TopicPartition]
    ) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
        """The first retained offset and the end of each partition."""
        ...

    async def offsets_for_times(
        self, partitions: Sequence[TopicPartition], timestamp_ms: int
    ) -> dict[TopicPartition, int | None]:
        """Each partition's first offset written at or after `timestamp_ms` (None: none)."""
        ...

    async def describe_group(self, group_id: str) -> tuple[str, int]:
        """The group's state (`Empty`, `Stable`, `Dead`, ...) and its number of members."""
        ...

    async def commit_group_offsets(self, group_id: str, offsets: dict[TopicPartition, int]) -> None:
        """Commit `offsets` for a group this process is no member of.

        Raises:
            CommitRefused: the group has active members.
        """
        ...

    async def read_ranges(
        self,
        ranges: dict[TopicPartition, tuple[int, int]],
        *,
        limit: int | None = None,
        poll_ms: int = 500,
        within: float = 120.0,
    ) -> list[Record]:
        """The records of each partition from `start` up to (not including) `end`, at most
        `limit` a partition, read by a consumer without a group (nothing is committed).

        Raises:
            RetryableError: the ranges were not read within `within` seconds.
        """
        ...


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, callbacks: RebalanceCallbacks) -> None:
        self._callbacks = callbacks

    async def on_partitions_revoked(self, revoked: Collection[TopicPartition]) -> None:
        await self._callbacks.on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: Collection[TopicPartition]) -> None:
        await self._callbacks.on_assigned(assigned)


class KeyPartitioner:
    """aiokafka's default partitioner (murmur2 of the key, as the Java client) with each
    key's hash remembered: a service keys its events by aggregate id, so keys repeat, and
    the pure-Python murmur2 costs microseconds a record. A record without a key goes to a
    random available partition, as by default."""

    def __init__(self, capacity: int = 65_536) -> None:
        self._hashes: dict[bytes, int] = {}
        self._capacity = capacity

    def hash_of(self, key: bytes) -> int:
        hashed = self._hashes.get(key)
        if hashed is None:
            if len(self._hashes) >= self._capacity:
                self._hashes.clear()
            hashed = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return hashed

    def __call__(
        self, key: bytes | None, all_partitions: Sequence[int], available: Sequence[int]
    ) -> int:
        if key is None:
            return random.choice(available or all_partitions)  # noqa: S311 - spreading load
        return all_partitions[self.hash_of(key) % len(all_partitions)]


class _KafkaProducer:
    """aiokafka's producer behind the port: its errors translated."""

    def __init__(self, inner: AIOKafkaProducer, partitioner: KeyPartitioner) -> None:
        self._inner = inner
        self._partitioner = partitioner

    async def start(self) -> None:
        with map_kafka_errors():
            await self._inner.start()

    async def stop(self) -> None:
        with map_kafka_errors():
            await self._inner.stop()

    async def flush(self) -> None:
        with map_kafka_errors():
            await self._inner.flush()

    async def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: Sequence[tuple[str, bytes]] | None = None,
    ) -> asyncio.Future[Any]:
        try:
            future: asyncio.Future[Any] = await self._inner.send(
                topic,
                value=value,
                key=key,
                partition=partition,
                timestamp_ms=timestamp_ms,
                headers=headers,
            )
        except kafka_errors.KafkaError as exc:
            raise translate_error(exc) from exc
        return future

    async def send_many(self, records: Sequence[OutRecord]) -> list[asyncio.Future[Any]]:
        """Records grouped by partition into aiokafka batches (`create_batch` /
        `send_batch`): no per-record future, partitioner call or accumulator look-up.

        A partition's records keep their order, and batches of one partition queue behind
        each other; the partitions' batches are handed over concurrently. Records without
        a key go through `send` (a random partition each).
        """
        inner = self._inner
        hash_of = self._partitioner.hash_of
        try:
            partitions: dict[str, list[int]] = {}
            for topic in {record[0] for record in records}:
                partitions[topic] = sorted(await inner.partitions_for(topic))
            lanes: dict[tuple[str, int], list[OutRecord]] = {}
            keyless: list[OutRecord] = []
            for record in records:
                topic, key = record[0], record[1]
                if key is None:
                    keyless.append(record)
                    continue
                ids = partitions[topic]
                tp = (topic, ids[hash_of(key) % len(ids)])
                lane = lanes.get(tp)
                if lane is None:
                    lanes[tp] = [record]
                else:
                    lane.append(record)
            futures = [
                future
                for lane_futures in await asyncio.gather(
                    *(self._send_lane(tp[0], tp[1], lane) for tp, lane in lanes.items())
                )
                for future in lane_futures
            ]
            for topic, key, value, headers in keyless:
                futures.append(await inner.send(topic, value=value, key=key, headers=headers))
        except kafka_errors.KafkaError as exc:
            raise translate_error(exc) from exc
        return futures

    async def _send_lane(
        self, topic: str, partition: int, records: Sequence[OutRecord]
    ) -> list[asyncio.Future[Any]]:
        inner = self._inner
        futures: list[asyncio.Future[Any]] = []
        batch = inner.create_batch()
        for _, key, value, headers in records:
            if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                if batch.record_count() == 0:
                    # Larger than a whole batch: `send` raises the driver's own error.
                    futures.append(await inner.send(topic, value=value, key=key, headers=headers))
                    continue
                batch.close()
                futures.append(await inner.send_batch(batch, topic, partition=partition))
                batch = inner.create_batch()
                if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                    futures.append(await inner.send(topic, value=value, key=key, headers=headers))
        if batch.record_count():
            batch.close()
            futures.append(await inner.send_batch(batch, topic, partition=partition))
        return futures


class _KafkaConsumer:
    """aiokafka's consumer behind the port: its errors translated."""

    def __init__(self, inner: AIOKafkaConsumer) -> None:
        self._inner = inner

    async def start(self) -> None:
        with map_kafka_errors():
            await self._inner.start()

    async def stop(self) -> None:
        with map_kafka_errors():
            await self._inner.stop()

    def subscribe_with(self, topics: Sequence[str], callbacks: RebalanceCallbacks) -> None:
        with map_kafka_errors():
            self._inner.subscribe(topics=list(topics), listener=_Listener(callbacks))

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[Any]]:
        with map_kafka_errors():
            batch: dict[TopicPartition, list[Any]] = await self._inner.getmany(
                *partitions, timeout_ms=timeout_ms, max_records=max_records
            )
        return batch

    async def commit(self, offsets: dict[TopicPartition, int] | None = None) -> None:
        with map_kafka_errors():
            await self._inner.commit(offsets)

    async def committed(self, partition: TopicPartition) -> int | None:
        with map_kafka_errors():
            offset: int | None = await self._inner.committed(partition)
        return offset

    def assignment(self) -> set[TopicPartition]:
        return set(self._inner.assignment())

    def highwater(self, partition: TopicPartition) -> int | None:
        offset: int | None = self._inner.highwater(partition)
        return offset

    async def position(self, partition: TopicPartition) -> int:
        with map_kafka_errors():
            offset: int = await self._inner.position(partition)
        return offset

    def seek(self, partition: TopicPartition, offset: int) -> None:
        with map_kafka_errors():
            self._inner.seek(partition, offset)


class KafkaTransport:
    """aiokafka clients with the settings ta-bridge relies on (see KAFKA.md for why).

    Producers are idempotent with `acks=all`; consumers never auto-commit and start from
    the earliest offset when their group has none. The `ClusterOps` calls open their own
    short-lived admin client or group-less consumer, so they never join, disturb or
    commit for a running group.
    """

    def __init__(self, bootstrap_servers: str, *, request_timeout_ms: int = 10_000) -> None:
        self.bootstrap_servers = bootstrap_servers
        self._timeout_ms = request_timeout_ms

    def producer(self, *, client_id: str, linger_ms: int = 5) -> ProducerClient:
        partitioner = KeyPartitioner()
        return _KafkaProducer(
            AIOKafkaProducer(
                bootstrap_servers=self.bootstrap_servers,
                client_id=client_id,
                enable_idempotence=True,
                acks="all",
                linger_ms=linger_ms,
                max_batch_size=256 * 1024,
                request_timeout_ms=30_000,
                partitioner=partitioner,
            ),
            partitioner,
        )

    def consumer(self, *, group_id: str, client_id: str, max_poll_records: int) -> ConsumerClient:
        return _KafkaConsumer(
            AIOKafkaConsumer(
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
        )

    @contextlib.asynccontextmanager
    async def _admin(self, **options: Any) -> Any:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap_servers,
            request_timeout_ms=options.pop("request_timeout_ms", self._timeout_ms),
        )
        try:
            with map_kafka_errors():
                await admin.start()
                yield admin
        finally:
            # Also when start() was cancelled half-way (a status call's deadline).
            await admin.close()

    @contextlib.asynccontextmanager
    async def _groupless(self, **options: Any) -> Any:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            enable_auto_commit=False,
            request_timeout_ms=self._timeout_ms,
            **options,
        )
        try:
            with map_kafka_errors():
                await consumer.start()
                yield consumer
        finally:
            # Let the client's own tasks begin before they are stopped: aiokafka's stop
            # raises CancelledError for a task cancelled before its first step.
            await asyncio.sleep(0)
            await consumer.stop()

    async def ensure_topics(self, specs: Sequence[TopicSpec]) -> None:
        """Create the topics that do not exist yet; existing ones are left as they are."""
        async with self._admin() as admin:
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
                with contextlib.suppress(kafka_errors.TopicAlreadyExistsError):
                    await admin.create_topics(missing)

    async def group_offsets(self, group_id: str) -> dict[TopicPartition, int]:
        """The committed offsets of a consumer group (empty when it has none)."""
        async with self._admin() as admin:
            offsets = await admin.list_consumer_group_offsets(group_id)
        return {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}

    async def partitions_of(self, topics: Sequence[str]) -> dict[str, list[TopicPartition]]:
        if not topics:
            return {}
        async with self._admin() as admin:
            # Describing by name auto-creates on brokers with auto-create on: list first.
            existing = set(await admin.list_topics())
            wanted = [t for t in topics if t in existing]
            described = await admin.describe_topics(wanted) if wanted else []
        found: dict[str, list[TopicPartition]] = {}
        for topic in described:
            if topic.get("error_code"):
                continue
            name = str(topic["topic"])
            found[name] = sorted(
                (TopicPartition(name, int(part["partition"])) for part in topic["partitions"]),
                key=lambda tp: tp.partition,
            )
        return {t: found[t] for t in topics if found.get(t)}

    async def end_offsets(self, topics: Sequence[str]) -> dict[TopicPartition, int]:
        """The high watermark of every partition of `topics` (missing topics are left out)."""
        partitions = [tp for tps in (await self.partitions_of(topics)).values() for tp in tps]
        if not partitions:
            return {}
        _, high = await self.offset_bounds(partitions)
        return high

    async def offset_bounds(
        self, partitions: Sequence[TopicPartition]
    ) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
        if not partitions:
            return {}, {}
        async with self._groupless() as consumer:
            low: dict[TopicPartition, int] = await consumer.beginning_offsets(list(partitions))
            high: dict[TopicPartition, int] = await consumer.end_offsets(list(partitions))
        return low, high

    async def offsets_for_times(
        self, partitions: Sequence[TopicPartition], timestamp_ms: int
    ) -> dict[TopicPartition, int | None]:
        if not partitions:
            return {}
        async with self._groupless() as consumer:
            found = await consumer.offsets_for_times(dict.fromkeys(partitions, timestamp_ms))
        return {tp: (found[tp].offset if found.get(tp) is not None else None) for tp in partitions}

    async def describe_group(self, group_id: str) -> tuple[str, int]:
        async with self._admin() as admin:
            [response] = await admin.describe_consumer_groups([group_id])
        described = response.to_object()["groups"]
        if not described:
            return "Dead", 0
        first = described[0]
        if first["error_code"]:
            # COORDINATOR_NOT_AVAILABLE and the like: "no members" would be a guess.
            raise BrokerUnavailable(
                f"cannot describe group {group_id!r}: Kafka error code {first['error_code']}"
            )
        return str(first["state"]), len(first["members"])

    async def commit_group_offsets(self, group_id: str, offsets: dict[TopicPartition, int]) -> None:
        # A consumer that assigns the partitions itself and never joins the group: the
        # broker refuses its commit while the group has members (CommitRefused).
        async with self._groupless(group_id=group_id) as consumer:
            consumer.assign(list(offsets))
            with map_kafka_errors():
                await consumer.commit(offsets)

    async def read_ranges(
        self,
        ranges: dict[TopicPartition, tuple[int, int]],
        *,
        limit: int | None = None,
        poll_ms: int = 500,
        within: float = 120.0,
    ) -> list[Record]:
        if all(start >= end for start, end in ranges.values()):
            return []  # nothing to read: no client at all
        found: list[Record] = []
        async with self._groupless(group_id=None, auto_offset_reset="earliest") as consumer:
            consumer.assign(list(ranges))
            for tp, (start, _) in ranges.items():
                consumer.seek(tp, start)
            wanted = {tp for tp, (start, end) in ranges.items() if start < end}
            taken: dict[TopicPartition, int] = dict.fromkeys(ranges, 0)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + within
            while wanted:
                if loop.time() > deadline:
                    raise RetryableError(f"partitions not read to their end within {within:g}s")
                batch = await consumer.getmany(*wanted, timeout_ms=poll_ms)
                for tp, records in batch.items():
                    end = ranges[tp][1]
                    for record in records:
                        if record.offset >= end or (limit is not None and taken[tp] >= limit):
                            wanted.discard(tp)
                            break
                        found.append(record)
                        taken[tp] += 1
                for tp in list(wanted):
                    full = limit is not None and taken[tp] >= limit
                    if full or await consumer.position(tp) >= ranges[tp][1]:
                        wanted.discard(tp)
        return found

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
