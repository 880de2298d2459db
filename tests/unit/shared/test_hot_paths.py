"""The event paths' short cuts give what the plain constructions give.

The producer and the consumer build envelopes, contexts, span contexts, event ids and
partitions without the general-purpose code (`make bench-transport`); each short cut is
checked here against that code.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka.partitioner import DefaultPartitioner
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanContext, SpanKind, TraceFlags, TraceState

from shared import Envelope, InvalidEvent, parent_based_sampler
from shared._envelope import new_event_ids
from shared._routing import MessageContext, message_context
from shared._tracing import SpanRecorder, parse_traceparent, valid_span_context
from shared._transport import KeyPartitioner

SAMPLED = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
NOT_SAMPLED = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"


def _recorder(ratio: float = 1.0) -> SpanRecorder:
    return SpanRecorder(TracerProvider(sampler=parent_based_sampler(ratio)).get_tracer("t"))


def test_valid_span_context_is_the_constructors_tuple() -> None:
    state = TraceState([("k", "v")])
    made = valid_span_context(7, 9, True, TraceFlags(1), state)
    plain = SpanContext(7, 9, True, TraceFlags(1), state)
    assert made == plain
    assert (made.trace_id, made.span_id, made.is_remote, made.is_valid) == (7, 9, True, True)
    assert made.trace_flags.sampled and made.trace_state == state


@pytest.mark.parametrize(
    "header",
    [
        SAMPLED,
        NOT_SAMPLED,
        "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01",
        "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-future",
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333--01",
        "00-0af7651916cd43dd8448eb211c80319x-b7ad6b7169203331-01",
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    ],
)
def test_parse_traceparent_reads_what_the_propagator_reads(header: str) -> None:
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    expected = trace.get_current_span(
        TraceContextTextMapPropagator().extract({"traceparent": header.lower()})
    ).get_span_context()
    parsed = parse_traceparent(header)
    if not expected.is_valid:
        assert parsed is None
    else:
        assert parsed == expected


def test_start_under_a_sampled_header_opens_a_child_in_its_trace() -> None:
    recorder = _recorder()
    parent, span, header = recorder.start_under(SAMPLED, "t send", SpanKind.PRODUCER)
    assert parent == parse_traceparent(SAMPLED)
    assert span is not None and parent is not None and span is not parent
    assert (span.trace_id, span.trace_flags, span.is_remote) == (parent.trace_id, 1, False)
    assert span.span_id not in (0, parent.span_id)
    assert header == f"00-{span.trace_id:032x}-{span.span_id:016x}-01"
    assert parse_traceparent(header) == SpanContext(
        span.trace_id, span.span_id, True, TraceFlags(1)
    )


def test_start_under_passes_an_unsampled_or_unreadable_header_on_as_it_is() -> None:
    recorder = _recorder()
    assert recorder.start_under(NOT_SAMPLED, "t send", SpanKind.PRODUCER) == (
        None,
        None,
        NOT_SAMPLED,
    )
    # Not canonical: read the general way, and the child's header is written canonically.
    upper = SAMPLED.upper().replace("00-", "00-", 1)
    parent, span, header = recorder.start_under(upper, "t send", SpanKind.PRODUCER)
    assert parent == parse_traceparent(SAMPLED) and span is not None
    assert header == f"00-{span.trace_id:032x}-{span.span_id:016x}-01"
    # Malformed: a new trace starts here (the sampler's choice), as `start(None)` would.
    parent, span, header = recorder.start_under("garbage", "t send", SpanKind.PRODUCER)
    assert parent is None and span is not None and span.trace_flags.sampled
    assert header == f"00-{span.trace_id:032x}-{span.span_id:016x}-01"


def test_start_under_with_a_no_op_tracer_names_the_pinned_context() -> None:
    from opentelemetry.trace import NoOpTracer

    recorder = SpanRecorder(NoOpTracer())
    parent, span, header = recorder.start_under(SAMPLED, "t send", SpanKind.PRODUCER)
    assert parent == span == parse_traceparent(SAMPLED)
    assert header == SAMPLED


def test_new_event_ids_are_uuid4_texts() -> None:
    ids = new_event_ids(500)
    assert len(set(ids)) == 500
    for text in ids:
        value = uuid.UUID(text)
        assert (str(value), value.version, value.variant) == (text, 4, uuid.RFC_4122)


def test_key_partitioner_places_keys_as_the_default_partitioner() -> None:
    ours, default = KeyPartitioner(capacity=8), DefaultPartitioner()
    rng = random.Random(5)
    partitions = [0, 1, 2, 3, 4]
    for _ in range(50):  # more keys than the capacity: the memo is cleared on the way
        key = rng.randbytes(rng.randint(1, 40))
        assert ours(key, partitions, partitions) == default(key, partitions, partitions)
    assert ours(None, partitions, [3]) == 3


def test_envelope_read_from_headers_equals_the_constructed_one() -> None:
    moment = datetime(2026, 12, 3, 13, 0, 0, 123456, tzinfo=UTC)
    envelope = Envelope(
        id="e-1",
        source="/s",
        type="org.wipo.tabridge.t.v1",
        data=b"{}",
        time=moment,
        subject="k",
        traceparent=SAMPLED,
        tracestate="k=v",
        extensions={"partitionkey": "k"},
    )
    read = Envelope.from_kafka(envelope.to_headers(), envelope.data)
    assert read == envelope
    bare = Envelope.from_kafka(
        [
            ("ce_specversion", b"1.0"),
            ("ce_id", b"e-2"),
            ("ce_source", b"/s"),
            ("ce_type", b"t.v1"),
            ("ce_traceparent", SAMPLED.encode()),
        ],
        b"{}",
    )
    assert (bare.traceparent, bare.datacontenttype, bare.subject) == (
        SAMPLED,
        "application/json",
        None,
    )


def test_envelope_names_a_header_that_is_not_utf8_wherever_it_is() -> None:
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"e-1"),
        ("ce_source", b"/s"),
        ("ce_type", b"t.v1"),
        ("x-other", b"\xff\xfe"),
    ]
    with pytest.raises(InvalidEvent) as caught:
        Envelope.from_kafka(headers, b"{}")
    assert [f.pointer for f in caught.value.faults] == ["header:x-other"]
    # Non-ASCII UTF-8 is fine.
    assert Envelope.from_kafka([*headers[:4], ("ce_subject", "é".encode())], b"{}").subject == "é"


def test_message_context_equals_the_constructed_one() -> None:
    envelope = Envelope(id="e", source="/s", type="t.v1", data=b"{}")
    span = SpanContext(1, 2, False, TraceFlags(1))
    assert message_context(envelope, "t", 1, 5, "k", 2, span) == MessageContext(
        envelope, "t", 1, 5, "k", 2, span
    )
