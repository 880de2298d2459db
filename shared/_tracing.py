"""OpenTelemetry set-up and W3C trace-context propagation through Kafka and HTTP headers.

Nothing here touches OpenTelemetry's global tracer provider: the composition root builds
a provider and passes tracers down, and propagation uses a propagator instance.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk import trace as sdk_trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    Tracer,
    TraceState,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = [
    "ACTIVITY_ID_ATTRIBUTE",
    "JsonlSpanExporter",
    "SpanRecorder",
    "build_tracer_provider",
    "context_from_headers",
    "context_from_traceparent",
    "current_traceparent",
    "format_traceparent",
    "parent_based_sampler",
    "parse_traceparent",
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
    sample_ratio: float | None = None,
) -> TracerProvider:
    """A provider exporting to OTLP/HTTP when an endpoint is set, else to local JSON lines.

    With neither (nor an explicit `exporter`) spans are still created, so trace ids reach
    logs and headers, but nothing is exported. `sample_ratio` makes the sampler
    `parent_based_sampler(sample_ratio)`; without it the SDK's own choice stands
    (`OTEL_TRACES_SAMPLER`, by default parent-based, always on).
    """
    provider = TracerProvider(
        resource=Resource.create({"service.name": service_name}),
        sampler=parent_based_sampler(sample_ratio) if sample_ratio is not None else None,
    )
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


def parent_based_sampler(ratio: float) -> Sampler:
    """Follow the parent's decision; a trace that starts here is kept with `ratio`.

    1.0 records every trace (the default), 0.1 one trace in ten: a change's trace is kept or
    dropped as a whole, because every hop after the first follows the flag it carries.
    """
    if ratio >= 1.0:
        return ParentBased(ALWAYS_ON)
    if ratio <= 0.0:
        return ParentBased(ALWAYS_OFF)
    return ParentBased(TraceIdRatioBased(ratio))


def parse_traceparent(traceparent: str | None, tracestate: str | None = None) -> SpanContext | None:
    """The remote span context a W3C `traceparent` names (None when absent or malformed).

    What the propagator's `extract` does for this one header, without its regular
    expression and context plumbing (the consumer parses one per record).
    """
    if not traceparent:
        return None
    if (
        len(traceparent) == 55
        and traceparent.startswith("00-")
        and traceparent[35] == "-"
        and traceparent[52] == "-"
        and traceparent.count("-") == 3
    ):
        # The only form our writers make (version 00, four fields): read by position.
        trace_hex, span_hex, flags_hex = traceparent[3:35], traceparent[36:52], traceparent[53:]
    else:
        parts = traceparent.split("-")
        if len(parts) < 4:
            return None
        version, trace_hex, span_hex, flags_hex = parts[0], parts[1], parts[2], parts[3]
        if (
            len(version) != 2
            or version == "ff"
            or (version == "00" and len(parts) != 4)
            or len(trace_hex) != 32
            or len(span_hex) != 16
            or len(flags_hex) != 2
        ):
            return None
    try:
        trace_id, span_id, flags = int(trace_hex, 16), int(span_hex, 16), int(flags_hex, 16)
    except ValueError:
        return None
    if not (0 < trace_id <= _MAX_TRACE_ID and 0 < span_id <= _MAX_SPAN_ID and flags >= 0):
        return None
    state = TraceState.from_header([tracestate]) if tracestate else _NO_TRACE_STATE
    return valid_span_context(trace_id, span_id, True, _FLAGS[flags & 0xFF], state)


def valid_span_context(
    trace_id: int, span_id: int, is_remote: bool, flags: TraceFlags, state: TraceState
) -> SpanContext:
    """`SpanContext(...)` for ids known to be valid (non-zero, in range), without its
    Python-level `__new__` (defaults and the validity check; one per span on the event
    paths): the same tuple, `is_valid` set. `tests/unit/shared` checks it against the
    constructor."""
    context: SpanContext = _tuple_new(
        SpanContext, (trace_id, span_id, is_remote, flags, state, True)
    )
    return context


_tuple_new = tuple.__new__
_NO_TRACE_STATE = TraceState.get_default()
_MAX_TRACE_ID = 2**128 - 1
_MAX_SPAN_ID = 2**64 - 1
_FLAGS = tuple(TraceFlags(value) for value in range(256))
_CANONICAL_TRACEPARENT = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
"""Every `TraceFlags` value, made once (a flags object per parsed header costs ~1 µs)."""


def format_traceparent(context: SpanContext) -> str:
    """The `traceparent` header value naming `context`."""
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


_UNSET = Status(StatusCode.UNSET)
_getrandbits = random.getrandbits


class SpanRecorder:
    """Spans made in a few microseconds: the hot paths' way to record one per event.

    The SDK's `Tracer.start_span` costs tens of microseconds a span (a sampler call, a
    context lookup, bounded attributes behind a lock, two processor hooks); at 20,000
    events a second that was most of the consumer's time. The event paths know their
    span's parent, its attributes and its outcome up front, so a span here is a span id,
    two clock reads and one finished `ReadableSpan` handed to the tracer's processors
    (`on_end`; the SDK's own processors do nothing `on_start`). Exporters see the same
    spans either way.

    Sampling follows the tracer's sampler: for a `ParentBased` one with its default
    delegates (what `parent_based_sampler` builds) the parent's flag decides without a
    call; otherwise, and for spans without a parent, the sampler is asked. A span that is
    not sampled gets no id of its own: its context is the parent's, as propagated.
    With a tracer that is not the SDK's (a no-op one), nothing is recorded and contexts
    pass through unchanged.
    """

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer
        self.recording = isinstance(tracer, sdk_trace.Tracer)
        self._processor: Any = None
        self._fast_parent = False
        self._random_ids = False
        if isinstance(tracer, sdk_trace.Tracer):
            self._processor = tracer.span_processor
            self._resource = tracer.resource
            self._scope = getattr(tracer, "_instrumentation_scope", None)
            self._sampler: Sampler = tracer.sampler
            self._ids = tracer.id_generator
            # The SDK's default ids are `random.getrandbits`: drawn here without the call.
            self._random_ids = type(tracer.id_generator) is RandomIdGenerator
            self._fast_parent = _default_parent_based(tracer.sampler)

    def start_under(
        self, traceparent: str | None, name: str, kind: SpanKind = SpanKind.INTERNAL
    ) -> tuple[SpanContext | None, SpanContext | None, str | None]:
        """Open a span under the context a `traceparent` header names (as `start` under
        the context it parses to): (parent, span, the `traceparent` the span's children
        carry). Nothing is recorded for a trace that is not sampled: the header given is
        passed on, and so is a malformed one when no span could be started.

        A header in the canonical form (what every hop of ta-bridge writes) is read by
        position: nothing is parsed for a trace that is not sampled, and the child's header
        reuses the trace id's text.
        """
        if (
            traceparent
            and self._fast_parent
            and self.recording
            and _CANONICAL_TRACEPARENT.fullmatch(traceparent)
        ):
            flags = int(traceparent[53:], 16)
            if not flags & TraceFlags.SAMPLED:
                return None, None, traceparent
            trace_id, parent_id = int(traceparent[3:35], 16), int(traceparent[36:52], 16)
            if trace_id and parent_id:
                trace_flags = _FLAGS[flags]
                remote = valid_span_context(trace_id, parent_id, True, trace_flags, _NO_TRACE_STATE)
                span_id = (_getrandbits(64) if self._random_ids else 0) or (
                    self._ids.generate_span_id()
                )
                child = valid_span_context(trace_id, span_id, False, trace_flags, _NO_TRACE_STATE)
                return remote, child, f"00-{traceparent[3:35]}-{span_id:016x}-{traceparent[53:]}"
        parent = parse_traceparent(traceparent)
        span = self.start(parent, name, kind)
        if span is None:
            return parent, None, traceparent or None
        return parent, span, format_traceparent(span)

    def start_sampled_root(self) -> SpanContext | None:
        """The context of a new root span that is recorded whatever the sampler says (a
        batch span, recorded because the traces it links to are); None when nothing is
        recorded."""
        if not self.recording:
            return None
        return valid_span_context(
            self._ids.generate_trace_id(),
            self._ids.generate_span_id(),
            False,
            _FLAGS[TraceFlags.SAMPLED],
            _NO_TRACE_STATE,
        )

    def start(
        self, parent: SpanContext | None, name: str, kind: SpanKind = SpanKind.INTERNAL
    ) -> SpanContext | None:
        """The context of a new span under `parent`; `parent` itself when not sampled.

        None only when there is no parent and nothing is recorded.
        """
        if not self.recording:
            return parent
        if parent is not None and self._fast_parent:
            flags = parent.trace_flags
            if not flags & TraceFlags.SAMPLED:
                return parent
            span_id = (_getrandbits(64) if self._random_ids else 0) or (
                self._ids.generate_span_id()
            )
            make = valid_span_context if parent.is_valid else SpanContext
            return make(parent.trace_id, span_id, False, flags, parent.trace_state)
        trace_id = parent.trace_id if parent is not None else self._ids.generate_trace_id()
        parent_ctx = trace.set_span_in_context(NonRecordingSpan(parent)) if parent else None
        decision = self._sampler.should_sample(parent_ctx, trace_id, name, kind)
        if decision.decision is not Decision.RECORD_AND_SAMPLE:
            if parent is not None:
                return parent
            return SpanContext(trace_id, self._ids.generate_span_id(), False, TraceFlags(0))
        state = decision.trace_state or (parent.trace_state if parent else None)
        return SpanContext(
            trace_id, self._ids.generate_span_id(), False, TraceFlags(TraceFlags.SAMPLED), state
        )

    def end(
        self,
        context: SpanContext | None,
        parent: SpanContext | None,
        name: str,
        *,
        kind: SpanKind,
        start_ns: int,
        attributes: dict[str, Any],
        links: Sequence[Link] = (),
        status: Status = _UNSET,
        events: Sequence[sdk_trace.Event] = (),
        end_ns: int | None = None,
    ) -> None:
        """Record the span `start` opened (nothing when it was not sampled)."""
        if (
            context is None
            or context is parent
            or not context.trace_flags.sampled
            or self._processor is None
        ):
            return
        self._processor.on_end(
            ReadableSpan(
                name,
                context,
                parent,
                self._resource,
                attributes,
                events,
                links,
                kind,
                None,
                status,
                start_ns,
                end_ns or time.time_ns(),
                self._scope,
            )
        )


def _default_parent_based(sampler: Sampler) -> bool:
    """True when `sampler` follows a parent's flag with nothing else consulted."""
    if not isinstance(sampler, ParentBased):
        return False
    delegates = (
        getattr(sampler, "_remote_parent_sampled", None),
        getattr(sampler, "_remote_parent_not_sampled", None),
        getattr(sampler, "_local_parent_sampled", None),
        getattr(sampler, "_local_parent_not_sampled", None),
    )
    return delegates == (ALWAYS_ON, ALWAYS_OFF, ALWAYS_ON, ALWAYS_OFF)


def error_event(exc: BaseException) -> sdk_trace.Event:
    """The `exception` span event `record_exception` would add."""
    return sdk_trace.Event(
        "exception",
        {
            "exception.type": type(exc).__qualname__,
            "exception.message": str(exc),
        },
    )


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
        "links": [
            {
                "trace_id": trace.format_trace_id(link.context.trace_id),
                "span_id": trace.format_span_id(link.context.span_id),
            }
            for link in span.links
        ],
    }
