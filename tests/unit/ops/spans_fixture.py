"""Spans written by the real `JsonlSpanExporter`, as three services would write them."""

from __future__ import annotations

from pathlib import Path

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    Tracer,
)

from shared import (
    ACTIVITY_ID_ATTRIBUTE,
    JsonlSpanExporter,
    context_from_traceparent,
    trace_headers,
)

ACTIVITIES = "tabridge.activity.events"
TAGS = "tabridge.sdg.tags"


class Services:
    """One tracer provider per service, each exporting to `<dir>/<service>.jsonl`."""

    def __init__(self, directory: Path) -> None:
        self.providers: dict[str, TracerProvider] = {}
        for service in ("registry", "sdg-tagger", "notifier"):
            provider = TracerProvider(resource=Resource.create({"service.name": service}))
            provider.add_span_processor(
                SimpleSpanProcessor(JsonlSpanExporter(directory / f"{service}.jsonl"))
            )
            self.providers[service] = provider

    def tracer(self, service: str) -> Tracer:
        return self.providers[service].get_tracer("tests")

    def shutdown(self) -> None:
        for provider in self.providers.values():
            provider.shutdown()


def _consumed(topic: str, group: str, key: str) -> dict[str, str | int]:
    return {
        "messaging.destination.name": topic,
        "messaging.consumer.group.name": group,
        "messaging.kafka.message.key": key,
        "messaging.kafka.offset": 7,
    }


def write_change(services: Services, activity_id: str, *, webhook_fails: bool = False) -> str:
    """One activity change across the services, in this shape; returns its trace id.

    registry POST /v1/activities
    ├─ notifier  activity.events process
    └─ sdg-tagger activity.events process
       └─ sdg-tagger sdg.tags send
          └─ notifier sdg.tags process
             └─ notifier POST (webhook)
    """
    registry = services.tracer("registry")
    tagger = services.tracer("sdg-tagger")
    notifier = services.tracer("notifier")
    with registry.start_as_current_span(
        "POST /v1/activities",
        kind=SpanKind.SERVER,
        attributes={"http.route": "/v1/activities", "http.response.status_code": 201},
    ) as request:
        request.set_attribute(ACTIVITY_ID_ATTRIBUTE, activity_id)
        traceparent = trace_headers()["traceparent"]
        trace_id = format(request.get_span_context().trace_id, "032x")
    with notifier.start_as_current_span(
        f"{ACTIVITIES} process",
        context=context_from_traceparent(traceparent),
        kind=SpanKind.CONSUMER,
        attributes=_consumed(ACTIVITIES, "notifier", activity_id),
    ):
        pass
    with (
        tagger.start_as_current_span(
            f"{ACTIVITIES} process",
            context=context_from_traceparent(traceparent),
            kind=SpanKind.CONSUMER,
            attributes=_consumed(ACTIVITIES, "sdg-tagger", activity_id),
        ),
        tagger.start_as_current_span(
            f"{TAGS} send", kind=SpanKind.PRODUCER, attributes={"messaging.destination.name": TAGS}
        ),
    ):
        tags_parent = trace_headers()["traceparent"]
    with (
        notifier.start_as_current_span(
            f"{TAGS} process",
            context=context_from_traceparent(tags_parent),
            kind=SpanKind.CONSUMER,
            attributes=_consumed(TAGS, "notifier", activity_id),
        ),
        notifier.start_as_current_span(
            "POST", kind=SpanKind.CLIENT, attributes={"webhook.id": "wh-1"}
        ) as post,
    ):
        if webhook_fails:
            post.set_status(Status(StatusCode.ERROR, "HTTP 500"))
    return trace_id


def write_batched_change(services: Services, activity_id: str, *, batch_of: int = 3) -> str:
    """One change consumed in a batch, as the shared runner records it; returns its trace id.

    registry POST /v1/activities
    └─ registry activity.events send
       ├─ notifier activity.events batch   (its own trace, linking to each record's send)
       └─ notifier POST (webhook, in the change's trace)
    """
    registry = services.tracer("registry")
    notifier = services.tracer("notifier")
    sends: list[SpanContext] = []
    for n in range(batch_of):
        with (
            registry.start_as_current_span(
                "POST /v1/activities",
                context=Context(),
                kind=SpanKind.SERVER,
                attributes={"http.route": "/v1/activities", "http.response.status_code": 201},
            ) as request,
            registry.start_as_current_span(
                f"{ACTIVITIES} send",
                kind=SpanKind.PRODUCER,
                attributes={"messaging.destination.name": ACTIVITIES},
            ) as send,
        ):
            request.set_attribute(ACTIVITY_ID_ATTRIBUTE, activity_id if n == 0 else f"other-{n}")
            sends.append(send.get_span_context())
    with notifier.start_as_current_span(
        f"{ACTIVITIES} batch",
        context=Context(),
        kind=SpanKind.CONSUMER,
        links=[Link(s) for s in sends],
        attributes={
            "messaging.destination.name": ACTIVITIES,
            "messaging.consumer.group.name": "notifier",
            "messaging.batch.message_count": batch_of,
        },
    ):
        pass
    with notifier.start_as_current_span(
        "POST",
        context=trace.set_span_in_context(NonRecordingSpan(sends[0])),
        kind=SpanKind.CLIENT,
        attributes={"webhook.id": "wh-1"},
    ):
        pass
    return format(sends[0].trace_id, "032x")
