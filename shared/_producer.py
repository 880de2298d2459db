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
from opentelemetry.trace import SpanKind, Tracer

from shared._envelope import JSON_CONTENT_TYPE, SPEC_VERSION, format_time, new_event_ids
from shared._event_model import Event
from shared._metrics import PipelineMetrics
from shared._tracing import SpanRecorder, format_traceparent, parse_traceparent
from shared._transport import ProducerClient, delivered

__all__ = ["EventPublisher", "Outgoing"]

_SPEC = SPEC_VERSION.encode()
_JSON = JSON_CONTENT_TYPE.encode()


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
        self._types: dict[type[Event], bytes] = {}
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
        [future] = await self._enqueue([item])
        if self._metrics is not None:
            published = self._metrics.published.labels(item.topic)

            def count(acked: asyncio.Future[Any]) -> None:
                if not acked.cancelled() and acked.exception() is None:
                    published.inc()

            future.add_done_callback(count)
        return future

    async def publish_all(self, items: Sequence[Outgoing]) -> list[Any]:
        """Enqueue every item, then wait for all acknowledgements (results in order).

        Raises:
            TransportError: the first delivery error; other items of the batch may have
                been written.
        """
        futures = await self._enqueue(items)
        results = await delivered(futures)
        if self._metrics is not None and items:
            published = self._metrics.published
            for topic, n in Counter(item.topic for item in items).items():
                published.labels(topic).inc(n)
        return results

    async def _enqueue(self, items: Sequence[Outgoing]) -> list[asyncio.Future[Any]]:
        if not items:
            return []
        # What every item of the batch shares is made once: the fresh ids (one read of the
        # random source), the send time.
        ids = _fresh_ids()
        now = format_time(datetime.now(UTC)).encode()
        futures: list[asyncio.Future[Any]] = []
        # Consecutive items pinned to one trace (an outbox row's event and snapshot) share a
        # span in that trace; a batch spanning many changes gets one span per change.
        start, count = 0, len(items)
        while start < count:
            pinned = items[start].traceparent
            end = start + 1
            while end < count and items[end].traceparent == pinned:
                end += 1
            run = items if end - start == count else items[start:end]
            futures.extend(await self._enqueue_run(run, pinned, ids, now))
            start = end
        return futures

    async def _enqueue_run(
        self,
        items: Sequence[Outgoing],
        pinned: str | None,
        ids: Iterator[str],
        now: bytes,
    ) -> list[asyncio.Future[Any]]:
        """Send `items` under one producer span: a child of the `pinned` trace when given,
        else of the current context. Records carry the span as their parent (or, when it
        is not recorded, the context it would have had)."""
        if pinned:
            parent = parse_traceparent(pinned)
        else:
            current = trace.get_current_span().get_span_context()
            parent = current if current.is_valid else None
        first_topic = items[0].topic
        single = len(items) == 1 or all(item.topic == first_topic for item in items)
        name = f"{first_topic} send" if single else "send"
        span = self._spans.start(parent, name, SpanKind.PRODUCER)
        started_ns = time.time_ns()
        trace_extra: tuple[tuple[str, bytes], ...] = ()
        if span is not None:
            encoded = format_traceparent(span).encode()
            trace_extra = (("ce_traceparent", encoded), ("traceparent", encoded))
            if span.trace_state:
                trace_extra += (("tracestate", span.trace_state.to_header().encode()),)
        elif pinned:
            # Malformed or not parsed: pass on what was pinned, as it was.
            encoded = pinned.encode()
            trace_extra = (("ce_traceparent", encoded), ("traceparent", encoded))
        source = self._source
        send = self._client.send
        types = self._types
        futures = []
        try:
            for item in items:
                event = item.event
                headers = [
                    ("ce_specversion", _SPEC),
                    ("ce_id", (item.event_id or next(ids)).encode()),
                    ("ce_source", source),
                    ("ce_type", types.get(type(event)) or self._type_of(event)),
                    ("ce_time", format_time(item.time).encode() if item.time else now),
                    ("content-type", _JSON),
                ]
                subject = event.subject()
                if subject is not None:
                    headers.append(("ce_subject", subject.encode()))
                if trace_extra:
                    headers.extend(trace_extra)
                value = item.data if item.data is not None else event.to_json()
                futures.append(
                    await send(item.topic, value=value, key=event.key().encode(), headers=headers)
                )
        finally:
            topics = first_topic if single else ",".join(sorted({i.topic for i in items}))
            self._spans.end(
                span,
                parent,
                name,
                kind=SpanKind.PRODUCER,
                start_ns=started_ns,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.operation.type": "send",
                    "messaging.destination.name": topics,
                    "messaging.batch.message_count": len(items),
                },
            )
        return futures

    def _type_of(self, event: Event) -> bytes:
        encoded = self._types[type(event)] = event.ce_type().encode()
        return encoded

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
