"""OpenTelemetry set-up and W3C trace-context propagation through Kafka and HTTP headers.

Nothing here touches OpenTelemetry's global tracer provider: the composition root builds
a provider and passes tracers down, and propagation uses a propagator instance.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = [
    "ACTIVITY_ID_ATTRIBUTE",
    "JsonlSpanExporter",
    "build_tracer_provider",
    "context_from_headers",
    "context_from_traceparent",
    "current_traceparent",
    "trace_headers",
]

_PROPAGATOR = TraceContextTextMapPropagator()

ACTIVITY_ID_ATTRIBUTE = "tabridge.activity.id"
"""The span attribute naming the activity a span works on (`ta-bridge trace <activity>`);
consumer spans carry it as the record key, `messaging.kafka.message.key`."""


def build_tracer_provider(
    service_name: str,
    *,
    otlp_endpoint: str | None = None,
    trace_dir: str | None = None,
    exporter: SpanExporter | None = None,
) -> TracerProvider:
    """A provider exporting to OTLP/HTTP when an endpoint is set, else to local JSON lines.

    With neither (nor an explicit `exporter`) spans are still created, so trace ids reach
    logs and headers, but nothing is exported.
    """
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if exporter is None and otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=otlp_endpoint.rstrip("/") + "/v1/traces")
    elif exporter is None and trace_dir:
        exporter = JsonlSpanExporter(Path(trace_dir) / f"{service_name}.jsonl")
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
    return provider


def trace_headers(context: Context | None = None) -> dict[str, str]:
    """`traceparent` (and `tracestate`) for the current or given context."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=context)
    return carrier


def current_traceparent() -> str | None:
    return trace_headers().get("traceparent")


def context_from_headers(
    headers: Mapping[str, str] | Iterable[tuple[str, bytes | None]] | None,
) -> Context:
    """The remote parent carried by HTTP headers (a mapping) or Kafka headers (pairs)."""
    if headers is None:
        return Context()
    if isinstance(headers, Mapping):
        carrier = {k.lower(): v for k, v in headers.items() if k.lower() in _FIELDS}
    else:
        carrier = {
            k.lower(): v.decode("latin-1")
            for k, v in headers
            if k.lower() in _FIELDS and v is not None
        }
    return _PROPAGATOR.extract(carrier)


_FIELDS = {"traceparent", "tracestate"}


def context_from_traceparent(traceparent: str | None, tracestate: str | None = None) -> Context:
    """The remote parent named by a `traceparent` value (an empty context when None)."""
    if not traceparent:
        return Context()
    carrier = {"traceparent": traceparent}
    if tracestate:
        carrier["tracestate"] = tracestate
    return _PROPAGATOR.extract(carrier)


class JsonlSpanExporter(SpanExporter):
    """Appends finished spans to a JSON-lines file, one span a line, for local viewing."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = [json.dumps(_span_record(span), default=str) for span in spans]
        with self._lock, self._path.open("a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def _span_record(span: ReadableSpan) -> dict[str, object]:
    ctx = span.get_span_context()
    parent = span.parent
    return {
        "trace_id": trace.format_trace_id(ctx.trace_id) if ctx else None,
        "span_id": trace.format_span_id(ctx.span_id) if ctx else None,
        "parent_id": trace.format_span_id(parent.span_id) if parent else None,
        "name": span.name,
        "kind": span.kind.name,
        "service": span.resource.attributes.get("service.name"),
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
    }
