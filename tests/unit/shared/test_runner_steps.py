"""Each step of the consumer runner on its own, on the in-memory transport."""

from __future__ import annotations

import asyncio
import gc
import io
import json
import random
from collections.abc import Collection, Sequence
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased
from opentelemetry.trace import NoOpTracer, SpanContext, SpanKind, TraceFlags, get_current_span
from prometheus_client import CollectorRegistry

from shared import (
    CommitPolicy,
    CommitRefused,
    DlqLimit,
    DlqLimitExceeded,
    Event,
    EventCatalog,
    EventPublisher,
    InvalidInput,
    JsonlSpanExporter,
    MemoryBroker,
    MemoryDedup,
    MemoryRecord,
    MemoryTransport,
    MessageContext,
    Outgoing,
    PipelineMetrics,
    RebalanceCallbacks,
    RetryableError,
    RetryPolicy,
    Router,
    SpanRecorder,
    TopicPartition,
    TopicSpec,
    configure_logging,
    format_traceparent,
    parent_based_sampler,
    parse_traceparent,
    settle_heap,
)
from shared._commit import CommitState, Committer, CommitTracker, LagGauges, Rebalance
from shared._policies import DlqWindow
from shared._steps import (
    DeadLetters,
    DecodeEnvelopes,
    Item,
    RouteByType,
    RunHandlers,
    SkipDuplicates,
    Tally,
    TraceRecords,
)
from tests.support.harness import Thing

TOPIC = "steps"
GROUP = "g"
TP = TopicPartition(TOPIC, 0)


class Steps:
    """A memory broker, a publisher and the pieces the steps are built from."""

    def __init__(self) -> None:
        self.transport = MemoryTransport(MemoryBroker(default_partitions=1))
        self.registry = CollectorRegistry()
        self.metrics = PipelineMetrics(self.registry)
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer = self.provider.get_tracer("steps")
        self.catalog = EventCatalog()
        self.catalog.register(Thing)
        self.logger = configure_logging("steps", "CRITICAL", stream=io.StringIO())
        self.publisher = EventPublisher(
            self.transport.producer(client_id="steps"), source="/steps", tracer=self.tracer
        )
        self.tally = Tally(self.metrics, GROUP)

    async def records(self, count: int, *, key: str = "k") -> list[MemoryRecord]:
        await self.publisher.start()
        with self.tracer.start_as_current_span("change"):
            await self.publisher.publish_all(
                [Outgoing(TOPIC, Thing(thing_id=key, n=i)) for i in range(count)]
            )
        return self.transport.broker.records(TOPIC)

    def items(self, records: Sequence[MemoryRecord], router: Router) -> list[Item]:
        items = DecodeEnvelopes()(records)
        RouteByType(router, self.catalog, self.metrics, GROUP)(items)
        return items

    def dead_letters(self, limit: DlqLimit | None = None) -> DeadLetters:
        return DeadLetters(
            self.publisher,
            DlqWindow(limit or DlqLimit()),
            group=GROUP,
            tally=self.tally,
            logger=self.logger,
        )

    def handlers(
        self, *, stopping: asyncio.Event | None = None, limit: DlqLimit | None = None
    ) -> RunHandlers:
        return RunHandlers(
            catalog=self.catalog,
            retry=RetryPolicy(max_attempts=3, initial_backoff=0.001, max_backoff=0.002),
            dead_letters=self.dead_letters(limit),
            tracing=TraceRecords(self.tracer, GROUP),
            tally=self.tally,
            stopping=stopping or asyncio.Event(),
            logger=self.logger,
            rng=random.Random(1),
            dedup=True,
        )

    def counter(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def steps() -> Steps:
    return Steps()


def router_of(handler: object, *, batch: bool = False) -> Router:
    router = Router()
    if batch:
        router.route_batch(Thing, handler)  # type: ignore[arg-type]
    else:
        router.route(Thing, handler)  # type: ignore[arg-type]
    return router


async def nothing(event: Event, ctx: MessageContext) -> None:
    return None


class Progress:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, tp: TopicPartition, next_offset: int, count: int) -> None:
        self.calls.append((next_offset, count))

    @property
    def done(self) -> int:
        return sum(count for _, count in self.calls)


# -- decode and route -----------------------------------------------------------------


async def test_decode_reads_the_envelope_and_marks_what_is_no_cloud_event(steps: Steps) -> None:
    [good] = await steps.records(1, key="thing-7")
    bad = MemoryRecord(TOPIC, 0, 1, b"k", b"{}", (("ce_id", b"x"),), 0)
    first, second = DecodeEnvelopes()([good, bad])
    assert first.envelope is not None
    assert first.envelope.type == "org.wipo.tabridge.test.thing.v1"
    assert first.key == "thing-7"
    assert first.error is None
    assert second.envelope is None
    assert second.error is not None
    assert "not a CloudEvent" in str(second.error)


async def test_route_by_type_routes_skips_and_refuses_per_type(steps: Steps) -> None:
    [record] = await steps.records(1)
    headers = dict(record.headers)

    def with_type(ce_type: bytes) -> MemoryRecord:
        h = {**headers, "ce_type": ce_type}
        return MemoryRecord(TOPIC, 0, 9, b"k", record.value, tuple(h.items()), 0)

    records = [
        record,
        with_type(b"org.wipo.tabridge.test.thing.v2"),
        with_type(b"org.other.v1"),
        with_type(b"no-version"),
    ]
    routed, newer, unrouted, invalid = steps.items(records, router_of(nothing))
    assert routed.route is not None and routed.route.family == "org.wipo.tabridge.test.thing"
    assert newer.skip == "newer_version"
    assert unrouted.skip == "unrouted"
    assert invalid.error is not None
    again = steps.items([record], router_of(nothing))
    assert again[0].route is not None
    route = RouteByType(router_of(nothing), steps.catalog, steps.metrics, GROUP)
    assert route.route(TOPIC, "org.wipo.tabridge.test.thing.v1") is route.route(
        TOPIC, "org.wipo.tabridge.test.thing.v1"
    ), "decided once per type"


# -- de-duplication -------------------------------------------------------------------


class LegacyDedup:
    """A store with only the per-event methods (what services may still pass)."""

    def __init__(self) -> None:
        self.ids: set[tuple[str, str]] = set()
        self.calls = 0

    async def seen(self, group: str, event_id: str) -> bool:
        self.calls += 1
        return (group, event_id) in self.ids

    async def mark(self, group: str, event_id: str) -> None:
        self.calls += 1
        self.ids.add((group, event_id))


@pytest.mark.parametrize("store", [MemoryDedup, LegacyDedup])
async def test_skip_duplicates_checks_and_remembers_a_batch(steps: Steps, store: type) -> None:
    records = await steps.records(4)
    items = steps.items(records, router_of(nothing))
    dedup = SkipDuplicates(store(), GROUP)
    ids = [i.envelope.id for i in items if i.envelope]
    await dedup.remember(ids[:2])
    await dedup.check(items)
    assert [i.skip for i in items] == ["duplicate", "duplicate", None, None]


async def test_memory_dedup_batch_methods_agree_with_the_single_ones() -> None:
    dedup = MemoryDedup(capacity=3)
    await dedup.mark_many("g", ["a", "b", "c", "d"])
    assert await dedup.seen_many("g", ["a", "b", "c", "d", "e"]) == {"b", "c", "d"}
    assert not await dedup.seen("g", "a"), "the oldest id fell out of the bounded store"
    assert await dedup.seen_many("other", ["b"]) == set(), "per group"


# -- tally ----------------------------------------------------------------------------


async def test_tally_applies_a_batch_of_counts_once(steps: Steps) -> None:
    items = steps.items(await steps.records(1), router_of(nothing))
    route = items[0].route
    assert route is not None
    steps.tally.handled[route] += 3
    steps.tally.skipped[(TOPIC, "duplicate")] += 2
    steps.tally.failed[(TOPIC, "ValueError")] += 1
    steps.tally.dead_lettered[TOPIC] += 1
    steps.tally.latencies.append((route.latency, 0.002))
    assert steps.counter("tabridge_events_handled_total", group=GROUP, topic=TOPIC,
                         type=route.family) == 0, "nothing before the flush"  # fmt: skip
    steps.tally.flush()
    steps.tally.flush()  # a second flush adds nothing
    labels = {"group": GROUP, "topic": TOPIC}
    assert steps.counter("tabridge_events_handled_total", **labels, type=route.family) == 3
    assert steps.counter("tabridge_events_skipped_total", **labels, reason="duplicate") == 2
    assert steps.counter("tabridge_events_failed_total", **labels, error="ValueError") == 1
    assert steps.counter("tabridge_events_dead_lettered_total", **labels) == 1
    assert steps.counter("tabridge_handler_seconds_count", **labels) == 1


def test_tally_buckets_latencies_as_observe_would() -> None:
    values = [0.0, 0.0005, 0.0007, 0.001, 0.3, 7.0, 99.0, 0.05]
    one, bulk = CollectorRegistry(), CollectorRegistry()
    single = PipelineMetrics(one).handler_seconds.labels("g", "t")
    for value in values:
        single.observe(value)
    tally = Tally(PipelineMetrics(bulk), "g")
    child = tally._metrics.handler_seconds.labels("g", "t")
    tally.latencies.extend((child, value) for value in values)
    tally.flush()

    def samples(registry: CollectorRegistry) -> dict[tuple[str, str], float]:
        return {
            (s.name, s.labels.get("le", "")): s.value
            for metric in registry.collect()
            if metric.name == "tabridge_handler_seconds"
            for s in metric.samples
            if not s.name.endswith("_created")
        }

    assert samples(bulk) == samples(one)
    assert samples(bulk)[("tabridge_handler_seconds_count", "")] == len(values)


# -- tracing --------------------------------------------------------------------------


def test_parse_traceparent_reads_valid_headers_and_refuses_the_rest() -> None:
    value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    ctx = parse_traceparent(value, "vendor=1")
    assert ctx is not None
    assert ctx.trace_id == 0x4BF92F3577B34DA6A3CE929D0E0E4736
    assert ctx.span_id == 0x00F067AA0BA902B7
    assert ctx.trace_flags.sampled and ctx.is_remote
    assert ctx.trace_state.get("vendor") == "1"
    assert format_traceparent(ctx) == value
    for bad in (
        None,
        "",
        "garbage",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473x-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
    ):
        assert parse_traceparent(bad) is None, bad


def test_span_recorder_follows_the_parent_and_skips_unsampled_traces() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    recorder = SpanRecorder(provider.get_tracer("t"))
    sampled = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    unsampled = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
    child = recorder.start(sampled, "x", SpanKind.CONSUMER)
    assert child is not None and sampled is not None
    assert child.trace_id == sampled.trace_id and child.span_id != sampled.span_id
    recorder.end(child, sampled, "x", kind=SpanKind.CONSUMER, start_ns=1, attributes={"a": 1})
    assert recorder.start(unsampled, "x", SpanKind.CONSUMER) is unsampled
    recorder.end(unsampled, unsampled, "x", kind=SpanKind.CONSUMER, start_ns=1, attributes={})
    root = recorder.start(None, "root", SpanKind.INTERNAL)
    assert root is not None and root.trace_flags.sampled
    [span] = exporter.get_finished_spans()
    assert span.context == child and span.parent == sampled
    assert span.attributes == {"a": 1} and span.kind is SpanKind.CONSUMER

    off = SpanRecorder(TracerProvider(sampler=ParentBased(ALWAYS_OFF)).get_tracer("t"))
    dropped = off.start(None, "root", SpanKind.INTERNAL)
    assert dropped is not None and not dropped.trace_flags.sampled
    assert SpanRecorder(NoOpTracer()).start(sampled, "x") is sampled, "no-op: passes through"


async def test_trace_records_a_batch_span_linking_each_record_and_a_span_per_failed_one(
    steps: Steps,
) -> None:
    records = await steps.records(3)
    [send] = [s for s in steps.exporter.get_finished_spans() if s.name.endswith(" send")]
    assert send.context is not None
    items = steps.items(records, router_of(nothing))
    tracing = TraceRecords(steps.tracer, GROUP)
    for item in items:
        tracing.open(item)
        token = tracing.activate(item)
        assert get_current_span().get_span_context() == item.span, "current for the handler"
        assert item.span is not None and item.span.span_id == send.context.span_id, (
            "the handler runs in the record's own trace, under the producer's span"
        )
        tracing.detach(token)
        tracing.close(item, ValueError("boom") if item.record.offset == 1 else None)
    tracing.batch(items, [TOPIC], started_ns=1)
    spans = steps.exporter.get_finished_spans()
    process = [s for s in spans if s.name == f"{TOPIC} process"]
    [batch] = [s for s in spans if s.name == f"{TOPIC} batch"]
    [failed] = process
    assert failed.parent is not None and failed.parent.span_id == send.context.span_id
    assert failed.context is not None and failed.context.trace_id == send.context.trace_id
    assert failed.status.status_code.name == "ERROR"
    assert failed.attributes is not None
    assert failed.attributes["messaging.kafka.message.key"] == "k"
    assert failed.attributes["messaging.kafka.offset"] == 1
    assert len(batch.links) == 3, "one link per record"
    named = (send.context.trace_id, send.context.span_id)
    assert all((link.context.trace_id, link.context.span_id) == named for link in batch.links)
    assert batch.context is not None and batch.context.trace_id != send.context.trace_id
    assert batch.attributes is not None
    assert batch.attributes["messaging.batch.message_count"] == 3


async def test_a_batch_span_is_kept_with_the_sampled_traces_it_links_to(steps: Steps) -> None:
    records = await steps.records(2)
    [send] = [s for s in steps.exporter.get_finished_spans() if s.name.endswith(" send")]
    items = steps.items(records, router_of(nothing))
    # The sampler would drop the batch span's own root: its sampled records keep it.
    recorder = InMemorySpanExporter()
    provider = TracerProvider(sampler=parent_based_sampler(0.0))
    provider.add_span_processor(SimpleSpanProcessor(recorder))
    tracing = TraceRecords(provider.get_tracer("t"), GROUP)
    for item in items:
        tracing.open(item)
        tracing.close(item)
    tracing.batch(items, [TOPIC], started_ns=1)
    [batch] = recorder.get_finished_spans()
    assert send.context is not None
    named = (send.context.trace_id, send.context.span_id)
    assert [(link.context.trace_id, link.context.span_id) for link in batch.links] == [named] * 2
    assert batch.kind is SpanKind.CONSUMER
    recorder.clear()
    for item in items:
        assert item.parent is not None
        item.parent = SpanContext(item.parent.trace_id, item.parent.span_id, True, TraceFlags(0))
    tracing.batch(items, [TOPIC], started_ns=1)
    assert recorder.get_finished_spans() == (), "no sampled record, no batch span"


# -- dead letters ---------------------------------------------------------------------


async def test_dead_letters_are_written_acknowledged_and_limited(steps: Steps) -> None:
    records = await steps.records(3)
    dead_letters = steps.dead_letters(DlqLimit(max_consecutive=2))
    await dead_letters.send(records[0], InvalidInput("poison"), attempts=1)
    dead_letters.ok()
    await dead_letters.send(records[1], InvalidInput("poison"), attempts=2)
    await dead_letters.send(records[2], InvalidInput("poison"), attempts=1)
    with pytest.raises(DlqLimitExceeded, match="3 consecutive"):
        await dead_letters.send(records[2], InvalidInput("poison"), attempts=1)
    written = steps.transport.broker.records(f"{TOPIC}.dlq")
    assert len(written) == 3
    headers = dict(written[1].headers)
    assert headers["dlq.attempts"] == b"2"
    assert headers["dlq.original.offset"] == b"1"
    assert headers["ce_type"] == b"org.wipo.tabridge.test.thing.v1"
    assert steps.tally.dead_lettered[TOPIC] == 3


# -- handlers and retries -------------------------------------------------------------


async def run_partition(
    steps: Steps,
    handlers: RunHandlers,
    items: list[Item],
    *,
    revoked: Collection[TopicPartition] = (),
) -> tuple[Progress, list[str]]:
    progress, done_ids = Progress(), list[str]()
    await handlers.partition(
        TP, items, progress=progress, revoked=revoked, done_ids=done_ids, seen_ids=set()
    )
    return progress, done_ids


async def test_per_record_handler_runs_in_order_with_retries_and_dlq(steps: Steps) -> None:
    attempts: dict[int, int] = {}
    handled: list[int] = []

    async def handle(event: Event, ctx: MessageContext) -> None:
        assert isinstance(event, Thing)
        attempts[event.n] = ctx.attempt
        if event.n == 1 and ctx.attempt < 2:
            raise RetryableError("busy")
        if event.n == 2:
            raise InvalidInput("poison")
        handled.append(event.n)

    items = steps.items(await steps.records(4), router_of(handle))
    progress, done_ids = await run_partition(steps, steps.handlers(), items)
    assert handled == [0, 1, 3]
    assert attempts == {0: 1, 1: 2, 2: 1, 3: 1}
    assert progress.calls == [(1, 1), (2, 1), (3, 1), (4, 1)]
    assert len(done_ids) == 3, "the dead-lettered record's effect did not happen"
    assert len(steps.transport.broker.records(f"{TOPIC}.dlq")) == 1
    assert steps.tally.failed[(TOPIC, "RetryableError")] == 1


async def test_batch_handler_gets_the_run_and_a_poison_event_is_found_alone(
    steps: Steps,
) -> None:
    calls: list[list[int]] = []

    async def handle(batch: Sequence[tuple[Event, MessageContext]]) -> None:
        ns = [e.n for e, _ in batch if isinstance(e, Thing)]
        calls.append(ns)
        if 2 in ns:
            raise InvalidInput("thing 2 is poison")

    items = steps.items(await steps.records(5), router_of(handle, batch=True))
    progress, done_ids = await run_partition(steps, steps.handlers(), items)
    assert calls[0] == [0, 1, 2, 3, 4], "the whole run at once"
    assert calls[1:] == [[0], [1], [2], [3], [4]], "then one at a time"
    assert len(done_ids) == 4
    assert progress.done == 5
    dead = steps.transport.broker.records(f"{TOPIC}.dlq")
    assert [dict(r.headers)["dlq.original.offset"] for r in dead] == [b"2"]


async def test_batch_handler_success_is_one_call_one_progress_step(steps: Steps) -> None:
    calls: list[int] = []

    async def handle(batch: Sequence[tuple[Event, MessageContext]]) -> None:
        calls.append(len(batch))
        assert [ctx.offset for _, ctx in batch] == sorted(ctx.offset for _, ctx in batch)
        assert all(ctx.span is not None for _, ctx in batch), "each record's span context"

    items = steps.items(await steps.records(6), router_of(handle, batch=True))
    progress, done_ids = await run_partition(steps, steps.handlers(), items)
    assert calls == [6]
    assert progress.calls == [(6, 6)]
    assert len(done_ids) == 6


async def test_a_revoked_partition_stops_before_its_next_record(steps: Steps) -> None:
    revoked: set[TopicPartition] = set()
    handled: list[int] = []

    async def handle(event: Event, ctx: MessageContext) -> None:
        assert isinstance(event, Thing)
        handled.append(event.n)
        if event.n == 1:
            revoked.add(TP)

    items = steps.items(await steps.records(4), router_of(handle))
    progress, _ = await run_partition(steps, steps.handlers(), items, revoked=revoked)
    assert handled == [0, 1]
    assert progress.done == 2


async def test_stopping_during_a_retry_wait_abandons_the_record_uncommitted(
    steps: Steps,
) -> None:
    stopping = asyncio.Event()

    async def handle(event: Event, ctx: MessageContext) -> None:
        stopping.set()
        raise RetryableError("busy")

    items = steps.items(await steps.records(2), router_of(handle))
    progress, done_ids = await run_partition(steps, steps.handlers(stopping=stopping), items)
    assert progress.calls == []
    assert done_ids == []
    assert steps.transport.broker.records(f"{TOPIC}.dlq") == []


async def test_an_id_met_twice_in_a_batch_is_handled_once(steps: Steps) -> None:
    [record] = await steps.records(1)
    twice = [record, MemoryRecord(TOPIC, 0, 1, record.key, record.value, record.headers, 0)]
    handled: list[int] = []

    async def handle(event: Event, ctx: MessageContext) -> None:
        handled.append(ctx.offset)

    items = steps.items(twice, router_of(handle))
    progress, _ = await run_partition(steps, steps.handlers(), items)
    assert handled == [0]
    assert progress.done == 2
    assert steps.tally.skipped[(TOPIC, "duplicate")] == 1


# -- commit policy, committer, lag, rebalance -------------------------------------------


def state(tracker: CommitTracker) -> CommitState:
    """The tracker's state, read afresh (not narrowed by earlier checks)."""
    return tracker.state


def test_commit_tracker_is_a_small_state_machine() -> None:
    now = [0.0]
    tracker = CommitTracker(CommitPolicy(every_messages=3, every_seconds=10), lambda: now[0])
    a, b = TopicPartition("t", 0), TopicPartition("t", 1)
    assert state(tracker) is CommitState.CLEAN and not tracker.due()
    tracker.advance(a, 5, 2)
    assert state(tracker) is CommitState.DIRTY and not tracker.due()
    tracker.advance(b, 1)
    assert tracker.due(), "every_messages reached"
    offsets = tracker.begin()
    assert offsets == {a: 5, b: 1} and state(tracker) is CommitState.COMMITTING
    tracker.refused()
    assert state(tracker) is CommitState.DIRTY
    tracker.accepted(tracker.begin())
    assert state(tracker) is CommitState.CLEAN and tracker.begin() == {}
    tracker.advance(a, 6)
    assert not tracker.due()
    now[0] = 10.0
    assert tracker.due(), "every_seconds reached"
    assert tracker.begin([b]) == {}, "only what changed, of the partitions asked for"
    tracker.forget([a])
    assert state(tracker) is CommitState.CLEAN and tracker.position(a) is None
    assert tracker.position(b) == 1


async def test_committer_commits_what_is_done_and_survives_a_refusal() -> None:
    transport = MemoryTransport(MemoryBroker(default_partitions=2))
    await transport.ensure_topics([TopicSpec("t", 2)])
    consumer = transport.consumer(group_id="g", client_id="c", max_poll_records=10)
    assigned = asyncio.Event()

    async def on_assigned(tps: Collection[TopicPartition]) -> None:
        assigned.set()

    async def on_revoked(tps: Collection[TopicPartition]) -> None:
        return None

    consumer.subscribe_with(["t"], RebalanceCallbacks(on_revoked, on_assigned))
    await consumer.getmany(timeout_ms=0)
    await assigned.wait()
    tracker = CommitTracker(CommitPolicy())
    committer = Committer(tracker, configure_logging("t", "CRITICAL", stream=io.StringIO()))
    committer.consumer = consumer
    mine, foreign = TopicPartition("t", 0), TopicPartition("elsewhere", 0)
    tracker.advance(mine, 4)
    await committer.commit()
    assert await consumer.committed(mine) == 4
    assert state(tracker) is CommitState.CLEAN
    tracker.advance(foreign, 1)
    await committer.commit()  # refused: not assigned to this member
    assert state(tracker) is CommitState.DIRTY
    with pytest.raises(CommitRefused):
        await consumer.commit({foreign: 1})
    lag = LagGauges(PipelineMetrics(registry := CollectorRegistry()), "g")
    transport.broker.append("t", None, b"v", (), 0)
    lag.update(consumer, tracker)
    labels = {"group": "g", "topic": "t", "partition": "0"}
    assert registry.get_sample_value("tabridge_consumer_lag", labels) == 0
    for _ in range(6):
        transport.broker.append("t", None, b"v", (), 0)
    lag.update(consumer, tracker)
    assert registry.get_sample_value("tabridge_consumer_lag", labels) == 3
    lag.forget([mine])
    assert registry.get_sample_value("tabridge_consumer_lag", labels) is None


async def test_rebalance_commits_revoked_partitions_after_the_batch_in_flight() -> None:
    transport = MemoryTransport(MemoryBroker(default_partitions=1))
    consumer = transport.consumer(group_id="g", client_id="c", max_poll_records=10)
    tracker = CommitTracker(CommitPolicy())
    logger = configure_logging("t", "CRITICAL", stream=io.StringIO())
    committer = Committer(tracker, logger)
    committer.consumer = consumer
    release = asyncio.Event()
    tp = TopicPartition("t", 0)

    async def batch() -> None:
        await release.wait()
        tracker.advance(tp, 7)

    in_flight = asyncio.create_task(batch())
    rebalance = Rebalance(
        tracker=tracker,
        committer=committer,
        lag=LagGauges(PipelineMetrics(CollectorRegistry()), "g"),
        in_flight=lambda: in_flight,
        drain_timeout=5,
        logger=logger,
    )
    consumer.subscribe_with(["t"], RebalanceCallbacks(rebalance.on_revoked, rebalance.on_assigned))
    await consumer.getmany(timeout_ms=0)  # joins: partition 0 assigned
    assert rebalance.assigned.is_set()
    revoking = asyncio.create_task(rebalance.on_revoked([tp]))
    await asyncio.sleep(0)
    assert tp in rebalance.revoked and not revoking.done(), "waits for the batch"
    release.set()
    await revoking
    assert await consumer.committed(tp) == 7
    assert tracker.position(tp) is None, "forgotten once gone"
    await rebalance.on_assigned([tp])
    assert tp not in rebalance.revoked


# -- the in-memory twin's ClusterOps --------------------------------------------------


async def test_memory_cluster_ops_answer_like_the_kafka_adapter() -> None:
    transport = MemoryTransport(MemoryBroker(default_partitions=2))
    await transport.ensure_topics([TopicSpec("t", 2)])
    for i in range(5):
        transport.broker.append("t", None, f"v{i}".encode(), (), i % 2)
    assert await transport.partitions_of(["t", "missing"]) == {
        "t": [TopicPartition("t", 0), TopicPartition("t", 1)]
    }
    assert not transport.broker.has_topic("missing"), "asking creates no topic"
    p0, p1 = TopicPartition("t", 0), TopicPartition("t", 1)
    low, high = await transport.offset_bounds([p0, p1])
    assert low == {p0: 0, p1: 0} and high == {p0: 3, p1: 2}
    assert await transport.offsets_for_times([p0], 0) == {p0: 0}
    assert await transport.offsets_for_times([p0], 2**62) == {p0: None}
    records = await transport.read_ranges({p0: (1, 3), p1: (0, 2)}, limit=1)
    assert [(r.partition, r.offset) for r in records] == [(0, 1), (1, 0)]
    assert await transport.describe_group("g") == ("Dead", 0)
    await transport.commit_group_offsets("g", {p0: 2})
    assert await transport.group_offsets("g") == {p0: 2}
    assert await transport.describe_group("g") == ("Empty", 0)
    member = transport.consumer(group_id="g", client_id="c", max_poll_records=10)

    async def none(_: Collection[TopicPartition]) -> None:
        return None

    member.subscribe_with(["t"], RebalanceCallbacks(none, none))
    await member.getmany(timeout_ms=0)
    assert await transport.describe_group("g") == ("Stable", 1)
    with pytest.raises(CommitRefused):
        await transport.commit_group_offsets("g", {p0: 0})


async def test_recorded_spans_export_as_otlp_and_json_lines(steps: Steps, tmp_path: Path) -> None:
    records = await steps.records(2)
    items = steps.items(records, router_of(nothing))
    tracing = TraceRecords(steps.tracer, GROUP)
    for item in items:
        tracing.open(item)
        item.failed(RetryableError("busy"))
        tracing.close(item)
    tracing.batch(items, [TOPIC], started_ns=1)
    spans = steps.exporter.get_finished_spans()
    request = encode_spans(spans)
    encoded = [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert len(encoded) == len(spans) == 5, "a send, two process spans, one batch span"
    [batch] = [s for s in encoded if s.name == f"{TOPIC} batch"]
    assert len(batch.links) == 2
    [process, _] = [s for s in encoded if s.name == f"{TOPIC} process"]
    assert [e.name for e in process.events] == ["exception"]
    exporter = JsonlSpanExporter(tmp_path / "steps.jsonl")
    exporter.export(spans)
    lines = (tmp_path / "steps.jsonl").read_text().splitlines()
    assert len(lines) == 5
    assert all(json.loads(line)["trace_id"] for line in lines)


def test_settle_heap_freezes_start_up_and_collects_young_objects_less_often() -> None:
    before = gc.get_threshold()
    try:
        settle_heap(12_345)
        assert gc.get_threshold()[0] == 12_345
        assert gc.get_freeze_count() > 0, "start-up objects are out of the collector's way"
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
