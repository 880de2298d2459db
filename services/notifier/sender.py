"""One webhook POST: no redirects, a deadline, an excerpt of the answer, SSRF-vetted."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from aiohttp.abc import AbstractResolver
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, Tracer
from yarl import URL

from shared import SpanRecorder, format_traceparent, parse_traceparent

from .deliveries import RESPONSE_EXCERPT_BYTES, AttemptOutcome
from .errors import UnsafeTargetError
from .schedule import parse_retry_after
from .ssrf import TargetPolicy, TargetRefusedError, VettingResolver

USER_AGENT = "ta-bridge-notifier/1"
_VERDICTS_KEPT = 10_000
_PARENTS_KEPT = 1_000


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: AttemptOutcome
    latency_ms: int
    status_code: int | None = None
    response_excerpt: str | None = None
    error: str | None = None
    retry_after: timedelta | None = None


def vetted_session(
    policy: TargetPolicy,
    *,
    resolver: AbstractResolver | None = None,
    max_connections: int = 100,
    max_per_host: int = 32,
    keepalive_seconds: float = 30.0,
) -> aiohttp.ClientSession:
    """A client session whose every connection goes to a policy-approved address.

    One session serves every receiver: its pool keeps up to ``max_per_host`` connections per
    receiver (host, port) alive for ``keepalive_seconds`` between webhooks, so a burst to one
    partner reuses a few connections instead of opening one per delivery. DNS caching is off
    so each new connection is resolved, and vetted, afresh; a kept-alive connection stays
    bound to the address vetted when it was opened. Create it inside the running loop; the
    caller closes it.
    """
    connector = aiohttp.TCPConnector(
        resolver=VettingResolver(policy, resolver),
        use_dns_cache=False,
        limit=max_connections,
        limit_per_host=max_per_host,
        keepalive_timeout=keepalive_seconds,
    )
    return aiohttp.ClientSession(
        connector=connector, headers={"user-agent": USER_AGENT}, cookie_jar=aiohttp.DummyCookieJar()
    )


class WebhookSender:
    """POSTs a signed body and classifies the answer; never raises for the endpoint's faults.

    Each attempt is a CLIENT span, child of the ``traceparent`` header it is given (the
    event's trace), and the header sent is the span's own: the receiver continues the trace
    that began with the change in the registry. The span is recorded directly
    (:class:`~shared.SpanRecorder`, as the runner records its spans): its parent, attributes
    and outcome are known, so it costs a span id and one finished span, not the SDK's
    span machinery, and the parent's sampling flag decides as the SDK's sampler would.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        policy: TargetPolicy,
        *,
        timeout: float = 15.0,
        tracer: Tracer | None = None,
    ) -> None:
        self._session = session
        self._policy = policy
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._spans = SpanRecorder(tracer) if tracer is not None else None
        #: The policy's verdict on each URL's text (parsed URL, or the refusal), which
        #: depends on nothing else; DNS answers are still vetted on every new connection.
        self._verdicts: dict[str, URL | UnsafeTargetError] = {}
        self._parents: dict[str, SpanContext | None] = {}

    async def send(
        self, url: str, *, headers: dict[str, str], body: bytes, now: datetime
    ) -> SendResult:
        """Deliver once; ``now`` anchors an HTTP-date Retry-After."""
        verdict = self._verdict(url)
        spans = self._spans
        if spans is None or not spans.recording:
            return await self._send(url, verdict, headers=headers, body=body, now=now)
        parent = self._parent(headers.get("traceparent"))
        span = spans.start(parent, "POST", SpanKind.CLIENT)
        if span is not None and span is not parent:
            headers["traceparent"] = format_traceparent(span)
            if span.trace_state:
                headers["tracestate"] = span.trace_state.to_header()
        start_ns = time.time_ns()
        result: SendResult | None = None
        try:
            result = await self._send(url, verdict, headers=headers, body=body, now=now)
            return result
        finally:
            if span is not None and span is not parent:
                spans.end(
                    span,
                    parent,
                    "POST",
                    kind=SpanKind.CLIENT,
                    start_ns=start_ns,
                    attributes=_attributes(verdict, headers, result),
                    status=_status(result),
                )

    def _parent(self, traceparent: str | None) -> SpanContext | None:
        """The event's span context, parsed once for all its subscriptions' attempts."""
        if not traceparent:
            return None
        if traceparent in self._parents:
            return self._parents[traceparent]
        if len(self._parents) >= _PARENTS_KEPT:
            self._parents.clear()
        parent = self._parents[traceparent] = parse_traceparent(traceparent)
        return parent

    def _verdict(self, url: str) -> URL | UnsafeTargetError:
        verdict = self._verdicts.get(url)
        if verdict is None:
            try:
                verdict = self._policy.check_url(url)
            except UnsafeTargetError as exc:
                verdict = exc
            if len(self._verdicts) >= _VERDICTS_KEPT:
                self._verdicts.clear()
            self._verdicts[url] = verdict
        return verdict

    async def _send(
        self,
        url: str,
        verdict: URL | UnsafeTargetError,
        *,
        headers: dict[str, str],
        body: bytes,
        now: datetime,
    ) -> SendResult:
        started = time.perf_counter()

        def elapsed() -> int:
            return round((time.perf_counter() - started) * 1000)

        try:
            if isinstance(verdict, UnsafeTargetError):
                raise UnsafeTargetError(str(verdict))
            async with self._session.post(
                verdict, data=body, headers=headers, allow_redirects=False, timeout=self._timeout
            ) as response:
                excerpt = await _excerpt(response)
                status = response.status
                retry_after = parse_retry_after(response.headers.get("retry-after"), now=now)
        except (UnsafeTargetError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            outcome, error = self._failure(exc)
            return SendResult(outcome, elapsed(), error=error)
        return _classify(status, excerpt, retry_after, elapsed())

    def _failure(self, exc: Exception) -> tuple[AttemptOutcome, str]:
        refused = exc.os_error if isinstance(exc, aiohttp.ClientConnectorError) else exc
        if isinstance(refused, UnsafeTargetError | TargetRefusedError):
            return AttemptOutcome.REFUSED, f"refused: {refused}"
        if isinstance(exc, aiohttp.ClientConnectorError):
            return AttemptOutcome.RETRY, f"connection failed: {exc}"
        if isinstance(exc, TimeoutError):
            return AttemptOutcome.RETRY, f"timed out after {self._timeout.total} s"
        return AttemptOutcome.RETRY, f"{type(exc).__name__}: {exc}"


def _attributes(
    verdict: URL | UnsafeTargetError, headers: dict[str, str], result: SendResult | None
) -> dict[str, object]:
    target = verdict if isinstance(verdict, URL) else _NO_URL
    attributes: dict[str, object] = {
        "http.request.method": "POST",
        "server.address": target.raw_host or "",
        "server.port": target.port or 0,
        "url.path": target.path,
        "webhook.id": headers.get("webhook-id", ""),
    }
    if result is not None:
        attributes["webhook.outcome"] = result.outcome.value
        if result.status_code is not None:
            attributes["http.response.status_code"] = result.status_code
    return attributes


_NO_URL = URL()
_OK = Status(StatusCode.UNSET)


def _status(result: SendResult | None) -> Status:
    """UNSET when delivered (or cancelled mid-attempt, as ``use_span`` leaves it), else ERROR."""
    if result is None or result.outcome is AttemptOutcome.DELIVERED:
        return _OK
    return Status(StatusCode.ERROR, result.error or result.outcome.value)


def _classify(status: int, excerpt: str, retry_after: timedelta | None, latency: int) -> SendResult:
    """2xx delivered; 410 gone; anything else (3xx included) retried, 429/503 when told."""
    if 200 <= status < 300:
        return SendResult(AttemptOutcome.DELIVERED, latency, status, excerpt)
    if status == 410:
        return SendResult(AttemptOutcome.GONE, latency, status, excerpt, "410 Gone")
    error = f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
    honoured = retry_after if status in {429, 503} else None
    return SendResult(AttemptOutcome.RETRY, latency, status, excerpt, error, honoured)


async def _excerpt(response: aiohttp.ClientResponse) -> str:
    """Up to 1 KiB of the answer's body, decoded leniently; the rest is never read."""
    data = b""
    while len(data) < RESPONSE_EXCERPT_BYTES:
        chunk = await response.content.read(RESPONSE_EXCERPT_BYTES - len(data))
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", errors="replace")
