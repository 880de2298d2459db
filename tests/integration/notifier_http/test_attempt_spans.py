"""Each webhook attempt is a CLIENT span under the event's trace, on a loopback receiver.

The span is recorded directly (``SpanRecorder``): it must reach the exporter with the
attributes, status and parent the SDK path gave it, and the ``traceparent`` sent must name
it; an unsampled trace gets no span and its header passes through unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from services.notifier.deliveries import AttemptOutcome
from services.notifier.sender import WebhookSender, vetted_session
from services.notifier.ssrf import TargetPolicy

from .conftest import Receivers

TRACE = "0af7651916cd43dd8448eb211c80319c"
PARENT = "b7ad6b7169203331"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def unavailable(_: web.Request) -> web.StreamResponse:
    return web.Response(status=503, headers={"Retry-After": "7"})


async def test_attempt_spans_continue_the_trace_and_carry_the_outcome(
    receivers: Receivers,
) -> None:
    good, busy = await receivers(), await receivers(unavailable)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    policy = TargetPolicy.from_allowlist(["127.0.0.1/32"])
    async with vetted_session(policy) as session:
        sender = WebhookSender(session, policy, tracer=provider.get_tracer("tests"))

        def headers(flags: str) -> dict[str, str]:
            return {"webhook-id": "evt-1", "traceparent": f"00-{TRACE}-{PARENT}-{flags}"}

        sent = headers("01")
        result = await sender.send(good.url, headers=sent, body=b"{}", now=NOW)
        assert result.outcome is AttemptOutcome.DELIVERED
        failed = await sender.send(busy.url, headers=headers("01"), body=b"{}", now=NOW)
        assert failed.outcome is AttemptOutcome.RETRY
        assert failed.retry_after is not None and failed.retry_after.total_seconds() == 7
        unsampled = headers("00")
        await sender.send(good.url, headers=unsampled, body=b"{}", now=NOW)

    ok_span, busy_span = exporter.get_finished_spans()  # none for the unsampled trace
    for span in (ok_span, busy_span):
        assert span.name == "POST"
        assert span.kind is SpanKind.CLIENT
        assert f"{span.context.trace_id:032x}" == TRACE
        assert span.parent is not None and f"{span.parent.span_id:016x}" == PARENT
        assert span.start_time is not None and span.end_time is not None
        assert span.start_time <= span.end_time
    first, unsampled_one = good.received
    assert first.headers["traceparent"] == f"00-{TRACE}-{ok_span.context.span_id:016x}-01"
    assert unsampled_one.headers["traceparent"] == f"00-{TRACE}-{PARENT}-00"
    assert ok_span.attributes is not None
    assert dict(ok_span.attributes) == {
        "http.request.method": "POST",
        "server.address": "127.0.0.1",
        "server.port": good.port,
        "url.path": "/hook",
        "webhook.id": "evt-1",
        "webhook.outcome": "delivered",
        "http.response.status_code": 204,
    }
    assert ok_span.status.status_code is StatusCode.UNSET
    assert busy_span.attributes is not None
    assert busy_span.attributes["http.response.status_code"] == 503
    assert busy_span.attributes["webhook.outcome"] == "retry"
    assert busy_span.status.status_code is StatusCode.ERROR
    assert busy_span.status.description == "HTTP 503"
    provider.shutdown()
