"""Publishing typed events: envelope, key, trace context, batching, delivery futures."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Tracer

from shared._envelope import JSON_CONTENT_TYPE, SPEC_VERSION, format_time
from shared._event_model import Event
from shared._metrics import PipelineMetrics
from shared._tracing import context_from_traceparent, trace_headers
from shared._transport import ProducerClient

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
        return future

    async def publish_all(self, items: Sequence[Outgoing]) -> list[Any]:
        """Enqueue every item, then wait for all acknowledgements (results in order).

        Raises:
            the first delivery error; other items of the batch may have been written.
        """
        futures = await self._enqueue(items)
        return list(await asyncio.gather(*futures))

    async def _enqueue(self, items: Sequence[Outgoing]) -> list[asyncio.Future[Any]]:
        if not items:
            return []
        futures: list[asyncio.Future[Any]] = []
        # Consecutive items pinned to one trace (an outbox row's event and snapshot) share a
        # span in that trace; a batch spanning many changes gets one span per change.
        for pinned, run in groupby(items, key=lambda item: item.traceparent):
            futures.extend(await self._enqueue_run(list(run), pinned))
        topics = sorted({item.topic for item in items})
        if self._metrics is not None:
            published = self._metrics.published
            counts = {topic: sum(1 for item in items if item.topic == topic) for topic in topics}

            def count(acked: asyncio.Future[Any]) -> None:
                if not acked.cancelled() and acked.exception() is None:
                    for topic, n in counts.items():
                        published.labels(topic).inc(n)

            asyncio.gather(*futures).add_done_callback(count)
        return futures

    async def _enqueue_run(
        self, items: Sequence[Outgoing], pinned: str | None
    ) -> list[asyncio.Future[Any]]:
        """Send `items` under one producer span: a child of the `pinned` trace when given,
        else of the current context. Records carry the span as their parent."""
        topics = sorted({item.topic for item in items})
        with self._tracer.start_as_current_span(
            f"{topics[0]} send" if len(topics) == 1 else "send",
            context=context_from_traceparent(pinned) if pinned else None,
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": ",".join(topics),
                "messaging.batch.message_count": len(items),
            },
        ):
            carrier = trace_headers()
        # Without a recording tracer there is no span to point at: keep the pinned parent.
        traceparent = carrier.get("traceparent") or pinned
        tracestate = carrier.get("tracestate") if carrier.get("traceparent") else None
        now = format_time(datetime.now(UTC)).encode()
        futures = []
        for item in items:
            event = item.event
            key = event.key()
            headers = [
                ("ce_specversion", _SPEC),
                ("ce_id", (item.event_id or str(uuid.uuid4())).encode()),
                ("ce_source", self._source),
                ("ce_type", event.ce_type().encode()),
                ("ce_time", format_time(item.time).encode() if item.time else now),
                ("content-type", _JSON),
            ]
            subject = event.subject()
            if subject is not None:
                headers.append(("ce_subject", subject.encode()))
            if traceparent:
                encoded = traceparent.encode()
                headers.append(("ce_traceparent", encoded))
                headers.append(("traceparent", encoded))
                if tracestate:
                    headers.append(("tracestate", tracestate.encode()))
            futures.append(
                await self._client.send(
                    item.topic, value=event.to_json(), key=key.encode(), headers=headers
                )
            )
        return futures

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
