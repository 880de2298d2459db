"""The aiohttp base every service builds on.

`/healthz` (the process answers), `/readyz` (its dependencies answer), `/metrics`
(Prometheus text), problem+json for every error, a request-size limit enforced before the
body is read, and a server span per request continuing the caller's `traceparent`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Tracer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from structlog.typing import FilteringBoundLogger

from shared._body_guards import BodyTooSlow, body_deadline, body_limit, broken_body
from shared._errors import TaBridgeError
from shared._operator import OPERATOR_KEYS
from shared._problems import ProblemError, http_problem, problem_from_error, problem_response
from shared._settings import CommonSettings
from shared._tracing import context_from_headers

__all__ = [
    "LOGGER",
    "METRICS_REGISTRY",
    "READINESS",
    "TRACER",
    "ReadinessCheck",
    "create_base_app",
    "json_response",
]

ReadinessCheck = Callable[[], Awaitable[bool]]

LOGGER = web.AppKey("logger", FilteringBoundLogger)
METRICS_REGISTRY = web.AppKey("metrics_registry", CollectorRegistry)
TRACER = web.AppKey("tracer", Tracer)
READINESS = web.AppKey("readiness", dict[str, ReadinessCheck])

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_INTERNAL = ProblemError(500, "internal_error", "Internal error", "the error was logged")


def json_response(
    data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        body=orjson.dumps(data),
        content_type="application/json",
        headers=headers,
    )


def create_base_app(
    *,
    service: str,
    logger: FilteringBoundLogger,
    registry: CollectorRegistry,
    tracer: Tracer | None = None,
    max_body_bytes: int = 1024 * 1024,
    settings: CommonSettings | None = None,
) -> web.Application:
    """An application with the health, readiness and metrics routes and the middlewares.

    Services add readiness checks with `app[READINESS]["kafka"] = check` and their own
    routes and cleanup contexts. From `settings` come the operator keys and the body
    deadline (`http_body_timeout`, `http_body_min_rate`); without them there is no
    operator and no body deadline.

    Every fault of the request itself is a typed 4xx problem: a body over the limit 413,
    an unsupported `Content-Encoding` 415, a body that does not decode (garbage under
    `Content-Encoding: gzip`) 400, a body slower than the deadline allows 408.
    """

    @web.middleware
    async def problems(request: web.Request, handler: _Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except asyncio.CancelledError:
            raise
        except web.HTTPRequestEntityTooLarge:
            too_large = ProblemError(
                413,
                "payload_too_large",
                "Request body too large",
                f"the limit is {max_body_bytes} bytes",
            )
            return problem_response(too_large, request.path)
        except web.HTTPException as http:
            if http.status < 400:
                raise
            return problem_response(http_problem(http, request), request.path)
        except ConnectionResetError:
            # The client went away before the answer was written (e.g. `curl ... | head`):
            # nothing wrong here. Raising on would have aiohttp log an error; the answer
            # returned instead is never written (aiohttp sees the closed connection).
            logger.info("client disconnected", path=request.path, method=request.method)
            return web.Response(status=499, reason="Client Closed Request")
        except Exception as exc:
            known = _known_problem(exc, request)
            if known is None:
                logger.exception("unhandled error", path=request.path, method=request.method)
                known = _INTERNAL
            response = problem_response(known, request.path)
            if isinstance(exc, RequestPayloadError | BodyTooSlow):
                response.force_close()
            return response

    the_tracer = tracer or trace.NoOpTracer()

    @web.middleware
    async def tracing(request: web.Request, handler: _Handler) -> web.StreamResponse:
        route = request.match_info.route.resource
        template = route.canonical if route is not None else request.path
        with the_tracer.start_as_current_span(
            f"{request.method} {template}",
            context=context_from_headers(dict(request.headers)),
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": request.method,
                "url.path": request.path,
                "http.route": template,
            },
        ) as span:
            response = await handler(request)
            span.set_attribute("http.response.status_code", response.status)
            return response

    guards = [body_limit(max_body_bytes)]
    if settings is not None:
        guards.append(body_deadline(settings.http_body_timeout, settings.http_body_min_rate))
    app = web.Application(middlewares=[tracing, problems, *guards], client_max_size=max_body_bytes)
    app[OPERATOR_KEYS] = settings.operator_key_digests() if settings is not None else frozenset()
    app[LOGGER] = logger
    app[METRICS_REGISTRY] = registry
    app[TRACER] = the_tracer
    app[READINESS] = {}
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", _metrics)
    return app


def _known_problem(exc: Exception, request: web.Request) -> ProblemError | None:
    if isinstance(exc, ProblemError):
        return exc
    if isinstance(exc, TaBridgeError):
        return problem_from_error(exc)
    return broken_body(exc, request)


async def _healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    checks = request.app[READINESS]
    names = list(checks)
    results = await asyncio.gather(
        *(asyncio.wait_for(checks[name](), 5) for name in names), return_exceptions=True
    )
    status = {name: result is True for name, result in zip(names, results, strict=True)}
    ready = all(status.values())
    return json_response(
        {"status": "ready" if ready else "not_ready", "checks": status},
        status=200 if ready else 503,
    )


async def _metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS_REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
