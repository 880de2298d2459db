"""Publishing typed events: envelope, key, trace context, batching, delivery futures."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanContext, SpanKind, Tracer

from shared._envelope import JSON_CONTENT_TYPE, SPEC_VERSION, format_time, new_event_ids
from shared._event_model import Event
from shared._metrics import PipelineMetrics
from shared._tracing import SpanRecorder, format_traceparent
from shared._transport import BatchProducerClient, OutRecord, ProducerClient, delivered

__all__ = ["EventPublisher", "Outgoing"]

_SPEC_HEADER = ("ce_specversion", SPEC_VERSION.encode())
_JSON_HEADER = ("content-type", JSON_CONTENT_TYPE.encode())


@dataclass(frozen=True, slots=True)
class _Shape:
    """What the records of one event class share."""

    type_header: tuple[str, bytes]
    subject_is_key: bool


_Span = tuple[SpanContext, SpanContext | None, str, dict[str, Any], int]
"""An open producer span: (context, parent, name, attributes, start ns)."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One event to publish, with the attributes a caller may pin.

    The outbox relay pins `event_id`, `time` and `traceparent` to what was stored with the
    change, so a re-published event is the same event, in the trace it was born in.
    """

    topic: str
    event: Event
    event_id: str | None = None
    time: datetime | None = None
    traceparent: str | None = None
    data: bytes | None = None
    """`event.to_json()`, when the caller has it already (the outbox stores those bytes)."""


def _fresh_ids(block: int = 256) -> Iterator[str]:
    """Fresh event ids, made a block at a time (only as many blocks as are used)."""
    while True:
        yield from new_event_ids(block)


class EventPublisher:
    """Publishes events as CloudEvents (binary mode) on an idempotent `acks=all` producer.

    `publish_all` enqueues a whole batch and then waits for every acknowledgement: a batch
    costs one round trip, not one per message. The batch gets one producer span, or, when
    items are pinned to traces (`Outgoing.traceparent`), one span per run of items pinned
    to the same trace, as a child of it, so the send belongs to the trace of the change.
    `publish` enqueues a single event and returns its delivery future. `close` flushes
    before it stops.
    """

    def __init__(
        self,
        client: ProducerClient,
        *,
        source: str,
        tracer: Tracer | None = None,
        metrics: PipelineMetrics | None = None,
    ) -> None:
        self._client = client
        self._source = source.encode()
        self._tracer = tracer or trace.NoOpTracer()
        self._spans = SpanRecorder(self._tracer)
        self._types: dict[type[Event], _Shape] = {}
        self._send_names: dict[str, str] = {}
        self._attributes: dict[tuple[str, int], dict[str, Any]] = {}
        self._metrics = metrics
        self._started = False

    async def start(self) -> None:
        await self._client.start()
        self._started = True

    async def close(self) -> None:
        """Flush what is buffered, then stop the client."""
        if self._started:
            self._started = False
            try:
                await self._client.flush()
            finally:
                await self._client.stop()

    async def publish(self, item: Outgoing) -> asyncio.Future[Any]:
        """Enqueue one event; the future resolves on the broker's acknowledgement."""
        [future] = await self._enqueue([item], batched=False)
        if self._metrics is not None:
            published = self._metrics.published.labels(item.topic)

            def count(acked: asyncio.Future[Any]) -> None:
                if not acked.cancelled() and acked.exception() is None:
                    published.inc()

            future.add_done_callback(count)
        return future

    async def publish_all(self, items: Sequence[Outgoing]) -> list[Any]:
        """Enqueue every item, then wait for all acknowledgements.

        Returns the acknowledgements in order: one per batch the items went out in when
        the client takes batches (`BatchProducerClient`), else one per item.

        Raises:
            TransportError: the first delivery error; other items of the batch may have
                been written.
        """
        futures = await self._enqueue(items, batched=True)
        results = await delivered(futures)
        if self._metrics is not None and items:
            published = self._metrics.published
            for topic, n in Counter(item.topic for item in items).items():
                published.labels(topic).inc(n)
        return results

    async def _enqueue(
        self, items: Sequence[Outgoing], *, batched: bool
    ) -> list[asyncio.Future[Any]]:
        if not items:
            return []
        spans: list[_Span] = []
        try:
            records = self._records(items, spans)
            client = self._client
            if batched and isinstance(client, BatchProducerClient):
                return await client.send_many(records)
            send = client.send
            return [
                await send(topic, value=value, key=key, headers=headers)
                for topic, key, value, headers in records
            ]
        finally:
            end_ns = time.time_ns()
            end = self._spans.end
            for span, parent, name, attributes, started_ns in spans:
                end(
                    span,
                    parent,
                    name,
                    kind=SpanKind.PRODUCER,
                    start_ns=started_ns,
                    end_ns=end_ns,
                    attributes=attributes,
                )

    def _records(self, items: Sequence[Outgoing], spans: list[_Span]) -> list[OutRecord]:
        """The records of `items`, in order, with their producer spans opened on `spans`.

        Consecutive items pinned to one trace (an outbox row's event and snapshot) share a
        span in that trace; a batch spanning many changes gets one span per change, each
        a child of the change's trace (or of the current context when nothing is pinned).
        Records carry their span as parent (or, when it is not recorded, the context it
        would have had). What every item shares is made once: the send time, the fresh
        ids (one read of the random source), each type's header.
        """
        ids = _fresh_ids()
        now = format_time(datetime.now(UTC)).encode()
        source = ("ce_source", self._source)
        time_header = ("ce_time", now)
        types = self._types
        records: list[OutRecord] = []
        append = records.append
        start, count = 0, len(items)
        while start < count:
            pinned = items[start].traceparent
            end = start + 1
            while end < count and items[end].traceparent == pinned:
                end += 1
            trace_extra = self._open_span(items, start, end, pinned, spans)
            for index in range(start, end):
                item = items[index]
                event = item.event
                shape = types.get(type(event)) or self._shape_of(event)
                key = event.key().encode()
                headers = [
                    _SPEC_HEADER,
                    ("ce_id", (item.event_id or next(ids)).encode()),
                    source,
                    shape.type_header,
                    ("ce_time", format_time(item.time).encode()) if item.time else time_header,
                    _JSON_HEADER,
                ]
                if shape.subject_is_key:
                    headers.append(("ce_subject", key))
                else:
                    subject = event.subject()
                    if subject is not None:
                        headers.append(("ce_subject", subject.encode()))
                if trace_extra:
                    headers.extend(trace_extra)
                value = item.data if item.data is not None else event.to_json()
                append((item.topic, key, value, headers))
            start = end
        return records

    def _open_span(
        self,
        items: Sequence[Outgoing],
        start: int,
        end: int,
        pinned: str | None,
        spans: list[_Span],
    ) -> tuple[tuple[str, bytes], ...]:
        """Open the producer span of `items[start:end]`; the trace headers its records carry."""
        first_topic = items[start].topic
        single = end - start == 1 or all(
            items[i].topic == first_topic for i in range(start + 1, end)
        )
        name = self._send_names.get(first_topic) if single else "send"
        if name is None:
            name = self._send_names[first_topic] = f"{first_topic} send"
        header: str | None
        if pinned:
            # A malformed pin is passed on as it was.
            parent, span, header = self._spans.start_under(pinned, name, SpanKind.PRODUCER)
        else:
            current = trace.get_current_span().get_span_context()
            parent = current if current.is_valid else None
            span = self._spans.start(parent, name, SpanKind.PRODUCER)
            header = format_traceparent(span) if span is not None else None
        if header is None:
            return ()
        encoded = header.encode()
        extra: tuple[tuple[str, bytes], ...] = (
            ("ce_traceparent", encoded),
            ("traceparent", encoded),
        )
        if span is None:
            return extra
        if span.trace_state:
            extra += (("tracestate", span.trace_state.to_header().encode()),)
        if span is not parent and span.trace_flags.sampled:
            topics = (
                first_topic
                if single
                else ",".join(sorted({items[i].topic for i in range(start, end)}))
            )
            spans.append(
                (span, parent, name, self._send_attributes(topics, end - start), time.time_ns())
            )
        return extra

    def _send_attributes(self, topics: str, count: int) -> dict[str, Any]:
        """A producer span's attributes (one dict per topic and count, shared: spans do not
        change their attributes once ended)."""
        key = (topics, count)
        attributes = self._attributes.get(key)
        if attributes is None:
            if len(self._attributes) > 1024:
                self._attributes.clear()
            attributes = self._attributes[key] = {
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": topics,
                "messaging.batch.message_count": count,
            }
        return attributes

    def _shape_of(self, event: Event) -> _Shape:
        cls = type(event)
        shape = self._types[cls] = _Shape(
            ("ce_type", cls.ce_type().encode()),
            # The default `subject()` is the key: read once, not twice, per event.
            cls.subject is Event.subject,
        )
        return shape

    async def publish_raw(
        self,
        topic: str,
        *,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]],
    ) -> asyncio.Future[Any]:
        """Enqueue a record as it is (dead letters, redrives)."""
        return await self._client.send(topic, value=value, key=key, headers=list(headers))
