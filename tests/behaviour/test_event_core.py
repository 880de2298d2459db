"""The event core's behaviour, run against the in-memory twin and a real Kafka broker."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any

import pytest

from shared import (
    CommitPolicy,
    ConsumerClient,
    DlqLimit,
    DlqLimitExceeded,
    Event,
    InvalidInput,
    MemoryDedup,
    MessageContext,
    ProducerClient,
    RetryableError,
    Router,
    TopicPartition,
    TopicSpec,
    Transport,
)
from tests.support.harness import Harness, Thing, stop_runner
from tests.support.waiting import eventually


@pytest.fixture
async def harness(transport: Transport, unique: str) -> AsyncIterator[Harness]:
    h = Harness(transport, f"test.core.{unique}")
    await h.start()
    yield h
    await h.close()


def things(count: int, keys: int = 4, payload: str = "") -> list[Thing]:
    return [Thing(thing_id=f"thing-{i % keys}", n=i // keys, payload=payload) for i in range(count)]


class Recorder:
    """A handler that records each event it is given, and its context."""

    def __init__(self) -> None:
        self.events: list[Thing] = []
        self.contexts: list[MessageContext] = []
        self.arrived = asyncio.Event()

    async def __call__(self, event: Event, ctx: MessageContext) -> None:
        assert isinstance(event, Thing)
        self.events.append(event)
        self.contexts.append(ctx)
        self.arrived.set()

    def router(self) -> Router:
        router = Router()
        router.route(Thing, self)
        return router


async def read_all(h: Harness, topic: str, expected: int, unique: str) -> list[Any]:
    """Read `expected` raw records from `topic` with a throwaway group."""
    consumer = h.transport.consumer(
        group_id=f"reader-{unique}", client_id="reader", max_poll_records=500
    )
    from shared import RebalanceCallbacks

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

        await eventually(more, timeout=30, message=f"{expected} records on {topic}")
    finally:
        await consumer.stop()
    return records


async def test_each_group_gets_each_event_once_with_headers_and_trace(
    harness: Harness, unique: str
) -> None:
    events = things(30)
    with harness.tracer.start_as_current_span("http request") as parent:
        await harness.publish(events)
    trace_id = parent.get_span_context().trace_id

    first, second = Recorder(), Recorder()
    runners = [
        harness.runner(f"g1-{unique}", first.router()),
        harness.runner(f"g2-{unique}", second.router()),
    ]
    tasks = [asyncio.create_task(r.run()) for r in runners]
    try:
        await eventually(lambda: len(first.events) >= 30 and len(second.events) >= 30, timeout=30)
    finally:
        for runner, task in zip(runners, tasks, strict=True):
            await stop_runner(runner, task)

    for recorder in (first, second):
        assert sorted((e.thing_id, e.n) for e in recorder.events) == sorted(
            (e.thing_id, e.n) for e in events
        )
        per_key: dict[str, list[int]] = defaultdict(list)
        for e in recorder.events:
            per_key[e.thing_id].append(e.n)
        assert all(ns == sorted(ns) for ns in per_key.values()), "order per key is kept"
        ctx = recorder.contexts[0]
        assert ctx.envelope.type == "org.wipo.tabridge.test.thing.v1"
        assert ctx.envelope.source == "/tests"
        assert ctx.key == recorder.events[0].thing_id
        assert ctx.envelope.subject == recorder.events[0].thing_id
        assert ctx.envelope.traceparent is not None
        assert ctx.envelope.traceparent.split("-")[1] == f"{trace_id:032x}"
    assert len({c.envelope.id for c in first.contexts}) == 30
    assert {c.envelope.id for c in first.contexts} == {c.envelope.id for c in second.contexts}

    spans = harness.exporter.get_finished_spans()
    # Each group's batch spans link to every record it handled, in the record's trace.
    batches = [s for s in spans if s.name.endswith(" batch")]
    links = [link.context for s in batches for link in s.links]
    [send] = [s for s in spans if s.name.endswith(" send")]
    assert send.attributes is not None
    assert send.attributes["messaging.batch.message_count"] == 30
    assert len(links) == 60
    assert all(c.trace_id == trace_id for c in links)
    assert send.context is not None
    assert all(c.span_id == send.context.span_id for c in links)
    assert not [s for s in spans if s.name.endswith(" process")], "no record failed"
    assert batches[0].attributes is not None
    assert batches[0].attributes["messaging.system"] == "kafka"
    assert harness.committed_total is not None
    assert await harness.committed_total(f"g1-{unique}") == 30


async def test_members_of_one_group_share_the_work(harness: Harness, unique: str) -> None:
    await harness.publish(things(60, keys=12))
    recorder = Recorder()
    group = f"shared-{unique}"
    runners = [harness.runner(group, recorder.router()) for _ in range(2)]
    tasks = [asyncio.create_task(r.run()) for r in runners]
    try:
        await eventually(lambda: len(recorder.events) >= 60, timeout=40)
    finally:
        for runner, task in zip(runners, tasks, strict=True):
            await stop_runner(runner, task)
    ids = Counter(c.envelope.id for c in recorder.contexts)
    assert len(ids) == 60
    assert max(ids.values()) == 1, "no event handled twice"


async def test_failing_handler_is_retried_then_dead_lettered_and_partition_flows(
    harness: Harness, unique: str
) -> None:
    # One key, so every event shares one partition: the poison must not block the rest.
    events = [Thing(thing_id="k", n=i) for i in range(6)]
    await harness.publish(events)
    attempts: Counter[int] = Counter()
    handled: list[int] = []

    async def handle(event: Event, ctx: MessageContext) -> None:
        assert isinstance(event, Thing)
        attempts[event.n] += 1
        if event.n == 1 and attempts[1] < 3:
            raise RetryableError("database is busy")
        if event.n == 3:
            raise InvalidInput("thing 3 is poison")
        if event.n == 4:
            raise RetryableError("always busy")
        handled.append(event.n)

    router = Router()
    router.route(Thing, handle)
    group = f"dlq-{unique}"
    runner = harness.runner(group, router)
    task = asyncio.create_task(runner.run())
    try:
        await eventually(lambda: handled == [0, 1, 2, 5], timeout=30)
        await eventually(
            lambda: (
                harness.counter(
                    "tabridge_events_dead_lettered_total", group=group, topic=harness.topic
                )
                == 2
            )
        )
    finally:
        await stop_runner(runner, task)

    assert attempts[1] == 3, "retried until it succeeded"
    assert attempts[3] == 1, "non-retryable errors are not retried"
    assert attempts[4] == 5, "retryable errors are retried up to the policy's limit"
    dead = await read_all(harness, f"{harness.topic}.dlq", 2, unique)
    by_n = {}
    for record in dead:
        headers = dict(record.headers)
        by_n[headers["dlq.original.offset"].decode()] = headers
        assert headers["ce_type"] == b"org.wipo.tabridge.test.thing.v1", "original headers kept"
        assert "ce_id" in headers
        assert headers["dlq.original.topic"] == harness.topic.encode()
        assert headers["dlq.consumer.group"] == group.encode()
    assert {h["dlq.error.type"] for h in by_n.values()} == {b"InvalidInput", b"RetryableError"}
    assert any(b"thing 3 is poison" in h["dlq.error.message"] for h in by_n.values())
    assert {h["dlq.attempts"] for h in by_n.values()} == {b"1", b"5"}
    assert await harness.committed_total(group) == 6


async def test_dlq_limit_halts_instead_of_dead_lettering_everything(
    harness: Harness, unique: str
) -> None:
    await harness.publish([Thing(thing_id="k", n=i) for i in range(10)])

    async def broken(event: Event, ctx: MessageContext) -> None:
        raise InvalidInput("schema drift")

    router = Router()
    router.route(Thing, broken)
    group = f"halt-{unique}"
    runner = harness.runner(group, router, dlq_limit=DlqLimit(max_consecutive=3))
    with pytest.raises(DlqLimitExceeded, match="4 consecutive"):
        await asyncio.wait_for(runner.run(), 30)
    assert (
        harness.counter("tabridge_events_dead_lettered_total", group=group, topic=harness.topic)
        == 3
    )
    assert await harness.committed_total(group) == 3, "the message that tripped the limit stays"
    assert harness.counter("tabridge_consumer_halted", group=group) == 1


async def test_invalid_envelopes_are_dead_lettered_and_unknown_types_skipped(
    harness: Harness, unique: str
) -> None:
    assert harness.publisher is not None
    raw = [
        ([("ce_id", b"x")], b"{}"),  # missing attributes
        (
            [
                (k, v)
                for k, v in (
                    ("ce_specversion", b"1.0"),
                    ("ce_id", b"a"),
                    ("ce_source", b"/t"),
                    ("ce_type", b"org.wipo.tabridge.test.thing.v1"),
                )
            ],
            b'{"thing_id": 5}',
        ),  # body fails the model
        (
            [
                ("ce_specversion", b"1.0"),
                ("ce_id", b"b"),
                ("ce_source", b"/t"),
                ("ce_type", b"org.other.v1"),
            ],
            b"{}",
        ),  # nobody here handles it
        (
            [
                ("ce_specversion", b"1.0"),
                ("ce_id", b"c"),
                ("ce_source", b"/t"),
                ("ce_type", b"org.wipo.tabridge.test.thing.v2"),
            ],
            b"{}",
        ),  # a newer major version, published side by side
    ]
    for headers, value in raw:
        fut = await harness.publisher.publish_raw(
            harness.topic, key=b"k", value=value, headers=headers
        )
        await fut
    await harness.publish([Thing(thing_id="k", n=0)])
    recorder = Recorder()
    group = f"bad-{unique}"
    runner = harness.runner(group, recorder.router())
    task = asyncio.create_task(runner.run())
    try:
        await eventually(lambda: len(recorder.events) == 1, timeout=30)
    finally:
        await stop_runner(runner, task)
    dead = await read_all(harness, f"{harness.topic}.dlq", 2, unique)
    messages = sorted(dict(r.headers)["dlq.error.message"].decode() for r in dead)
    assert "not a CloudEvent" in messages[0]
    assert "/thing_id" in messages[1] and "/n" in messages[1], "faults carry JSON pointers"
    assert (
        harness.counter(
            "tabridge_events_skipped_total", group=group, topic=harness.topic, reason="unrouted"
        )
        == 1
    )
    assert (
        harness.counter(
            "tabridge_events_skipped_total",
            group=group,
            topic=harness.topic,
            reason="newer_version",
        )
        == 1
    )


class _CrashAfter:
    """Wraps a transport so that, once crashed, no commit reaches the broker: what a killed
    process looks like from the group's point of view."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.crashed = False

    def producer(self, *, client_id: str, linger_ms: int = 5) -> ProducerClient:
        return self.inner.producer(client_id=client_id, linger_ms=linger_ms)

    def consumer(self, *, group_id: str, client_id: str, max_poll_records: int) -> ConsumerClient:
        client = self.inner.consumer(
            group_id=group_id, client_id=client_id, max_poll_records=max_poll_records
        )
        original = client.commit
        wrapper = self

        async def commit(offsets: dict[TopicPartition, int] | None = None) -> None:
            if not wrapper.crashed:
                await original(offsets)

        client.commit = commit  # type: ignore[method-assign]
        return client

    async def ensure_topics(self, specs: Sequence[TopicSpec]) -> None:
        await self.inner.ensure_topics(specs)

    async def ping(self) -> bool:
        return await self.inner.ping()

    async def group_offsets(self, group_id: str) -> dict[TopicPartition, int]:
        return await self.inner.group_offsets(group_id)

    async def end_offsets(self, topics: Sequence[str]) -> dict[TopicPartition, int]:
        return await self.inner.end_offsets(topics)


class _Killed(BaseException):
    """Stands for the process dying: not an error any handler or runner may catch."""


async def test_killed_consumer_redelivers_only_uncommitted_and_dedup_keeps_effects_once(
    harness: Harness, unique: str
) -> None:
    total = 40
    await harness.publish(things(total, keys=1))  # one partition: a strict sequence
    effects: Counter[str] = Counter()
    dedup = MemoryDedup()  # durable in this test's lifetime, like a service's own store
    crashing = _CrashAfter(harness.transport)

    async def handle(event: Event, ctx: MessageContext) -> None:
        if len(effects) == 25 and not crashing.crashed:
            crashing.crashed = True
            raise _Killed
        effects[ctx.envelope.id] += 1

    router = Router()
    router.route(Thing, handle)
    group = f"kill-{unique}"
    first = harness.runner(
        group,
        router,
        transport=crashing,
        dedup=dedup,
        commit=CommitPolicy(every_messages=10, every_seconds=3600),
        max_batch=7,
    )
    with pytest.raises(_Killed):
        await asyncio.wait_for(first.run(), 30)
    committed_at_death = await harness.committed_total(group)
    assert 0 < committed_at_death < 25, "some work was committed, some was not"

    second = harness.runner(group, router, dedup=dedup)
    task = asyncio.create_task(second.run())
    try:
        await eventually(lambda: len(effects) == total, timeout=30)
        await eventually(lambda: harness.committed_total(group), timeout=10)
        await eventually(
            lambda: (
                harness.counter(
                    "tabridge_events_skipped_total",
                    group=group,
                    topic=harness.topic,
                    reason="duplicate",
                )
                == 25 - committed_at_death
            ),
            timeout=10,
            message="exactly the uncommitted-but-done events were redelivered and skipped",
        )
    finally:
        await stop_runner(second, task)
    assert set(effects.values()) == {1}, "each effect happened exactly once"
    assert await harness.committed_total(group) == total


async def test_stop_drains_in_flight_work_then_commits(harness: Harness, unique: str) -> None:
    await harness.publish(things(20, keys=1))
    release = asyncio.Event()
    handled: list[int] = []

    async def slow(event: Event, ctx: MessageContext) -> None:
        assert isinstance(event, Thing)
        if event.n == 5:
            await release.wait()
        handled.append(event.n)

    router = Router()
    router.route(Thing, slow)
    group = f"drain-{unique}"
    runner = harness.runner(
        group, router, commit=CommitPolicy(every_messages=1000, every_seconds=3600), max_batch=10
    )
    task = asyncio.create_task(runner.run())
    await eventually(lambda: handled == [0, 1, 2, 3, 4], timeout=30)
    runner.stop()
    release.set()  # the in-flight record finishes within the drain deadline
    await asyncio.wait_for(task, 30)
    assert handled == list(range(len(handled)))
    assert len(handled) >= 6
    assert await harness.committed_total(group) == len(handled), "everything handled is committed"


async def test_drain_deadline_abandons_stuck_work_uncommitted(
    harness: Harness, unique: str
) -> None:
    await harness.publish(things(5, keys=1))
    handled: list[int] = []
    never = asyncio.Event()

    async def stuck(event: Event, ctx: MessageContext) -> None:
        assert isinstance(event, Thing)
        if event.n == 2:
            await never.wait()
        handled.append(event.n)

    router = Router()
    router.route(Thing, stuck)
    group = f"stuck-{unique}"
    runner = harness.runner(group, router, drain_timeout=0.2)
    task = asyncio.create_task(runner.run())
    await eventually(lambda: handled == [0, 1], timeout=30)
    runner.stop()
    await asyncio.wait_for(task, 30)
    assert await harness.committed_total(group) == 2, "the stuck record is not committed"


async def test_batch_handler_gets_runs_in_key_order_and_a_poison_event_alone(
    harness: Harness, unique: str
) -> None:
    events = things(40, keys=4)
    await harness.publish(events)
    calls: list[int] = []
    handled: list[Thing] = []
    poison = (events[13].thing_id, events[13].n)

    async def handle(batch: Sequence[tuple[Event, MessageContext]]) -> None:
        calls.append(len(batch))
        things_ = [e for e, _ in batch if isinstance(e, Thing)]
        assert len({ctx.partition for _, ctx in batch}) == 1, "one partition a call"
        if any((t.thing_id, t.n) == poison for t in things_):
            raise InvalidInput("poison in this run")
        handled.extend(things_)

    router = Router()
    router.route_batch(Thing, handle)
    group = f"batch-{unique}"
    runner = harness.runner(group, router)
    task = asyncio.create_task(runner.run())
    try:
        await eventually(lambda: len(handled) >= 39, timeout=30)
        await eventually(lambda: harness.committed_total(group), timeout=10)
        await eventually(
            lambda: (
                harness.counter(
                    "tabridge_events_dead_lettered_total", group=group, topic=harness.topic
                )
                == 1
            )
        )
    finally:
        await stop_runner(runner, task)
    assert len(handled) == 39
    assert poison not in {(t.thing_id, t.n) for t in handled}
    per_key: dict[str, list[int]] = defaultdict(list)
    for t in handled:
        per_key[t.thing_id].append(t.n)
    assert all(ns == sorted(ns) for ns in per_key.values()), "order per key is kept"
    assert max(calls) > 1, "events arrive in runs, not one by one"
    assert await harness.committed_total(group) == 40
