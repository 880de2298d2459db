"""Publishing typed events: envelope, key, trace context, batching, delivery futures."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Tracer

from shared._envelope import Envelope, new_event_id
from shared._event_model import Event
from shared._metrics import PipelineMetrics
from shared._tracing import trace_headers
from shared._transport import ProducerClient

__all__ = ["EventPublisher", "Outgoing"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One event to publish, with the attributes a caller may pin (e.g. a stable id)."""

    topic: str
    event: Event
    event_id: str | None = None
    time: datetime | None = None
    traceparent: str | None = None


class EventPublisher:
    """Publishes events as CloudEvents on an idempotent, `acks=all` producer.

    `publish` only enqueues: it returns once the record is in the producer's batch, with a
    future that resolves when the broker acknowledges it. `publish_all` enqueues a whole
    batch and then waits for every acknowledgement, so a batch costs one round trip, not one
    per message. `close` flushes before it stops.
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
        self._source = source
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
        """Enqueue one event; the returned future resolves on the broker's acknowledgement."""
        event = item.event
        key = event.key()
        with self._tracer.start_as_current_span(
            f"{item.topic} publish",
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": item.topic,
                "messaging.kafka.message.key": key,
                "cloudevents.event_type": event.ce_type(),
            },
        ) as span:
            envelope = Envelope(
                id=item.event_id or new_event_id(),
                source=self._source,
                type=event.ce_type(),
                data=event.to_json(),
                subject=event.subject(),
            )
            if item.time is not None:
                envelope = _with_time(envelope, item.time)
            carrier = trace_headers()
            # A caller replaying stored work (the outbox) pins the trace it was born in.
            traceparent = item.traceparent or carrier.get("traceparent")
            envelope = envelope.with_trace(traceparent, carrier.get("tracestate"))
            span.set_attribute("messaging.message.id", envelope.id)
            future = await self._client.send(
                item.topic,
                value=envelope.data,
                key=key.encode(),
                headers=envelope.to_headers(),
            )
        if self._metrics is not None:
            counter = self._metrics.published.labels(item.topic)
            future.add_done_callback(lambda f: None if f.exception() else counter.inc())
        return future

    async def publish_all(self, items: Sequence[Outgoing]) -> list[Any]:
        """Enqueue every item, then wait for all acknowledgements (in order).

        Raises:
            the first delivery error; items before it may have been written.
        """
        futures = [await self.publish(item) for item in items]
        return list(await asyncio.gather(*futures))

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


def _with_time(envelope: Envelope, moment: datetime) -> Envelope:
    from dataclasses import replace

    return replace(envelope, time=moment)
