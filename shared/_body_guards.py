"""Guards on request bodies, before and while a handler reads them.

`body_limit` refuses a declared size over the limit (413) and a `Content-Encoding` aiohttp
does not inflate (415). `body_deadline` refuses a body that keeps arriving slower than the
server allows (408): after `timeout` seconds it must have averaged `min_rate` bytes/s, so
a client dribbling bytes cannot hold a connection and a handler forever. `broken_body`
turns a fault of the body stream itself (garbage under `Content-Encoding: gzip`, a body
too slow) into its problem; the connection closes after it, as the rest of the body can
no longer be framed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp.web_protocol import RequestPayloadError

from shared._problems import ProblemError

__all__ = ["BodyTooSlow", "body_deadline", "body_limit", "broken_body"]

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: What aiohttp inflates itself; any other coding would reach a handler still encoded.
_CONTENT_CODINGS = frozenset({"", "identity", "gzip", "deflate"})
_CHECK_SECONDS = 1.0


class BodyTooSlow(Exception):
    """Set on a request's body stream when it arrives slower than the server allows."""


def body_limit(max_body_bytes: int) -> Middleware:
    @web.middleware
    async def limit(request: web.Request, handler: _Handler) -> web.StreamResponse:
        coding = request.headers.get("Content-Encoding", "").strip().lower()
        if coding not in _CONTENT_CODINGS:
            raise ProblemError(
                415,
                "unsupported_content_encoding",
                "Unsupported content encoding",
                f"send the body as identity, gzip or deflate, not {coding[:40]!r}",
            )
        length = request.content_length
        if length is not None and length > max_body_bytes:
            raise ProblemError(
                413,
                "payload_too_large",
                "Request body too large",
                f"the body is {length} bytes; the limit is {max_body_bytes}",
            )
        return await handler(request)

    return limit


def body_deadline(timeout: float, min_rate: int) -> Middleware:
    """See the module docstring; `min_rate` 0 turns the deadline off."""

    @web.middleware
    async def deadline(request: web.Request, handler: _Handler) -> web.StreamResponse:
        if min_rate <= 0 or not request.body_exists:
            return await handler(request)
        loop = asyncio.get_running_loop()
        started = loop.time()
        content = request.content
        handle: asyncio.TimerHandle | None = None

        def check() -> None:
            nonlocal handle
            if content.is_eof():
                return
            elapsed = loop.time() - started
            if content.total_bytes < min_rate * elapsed:
                content.set_exception(
                    BodyTooSlow(
                        f"the body arrived at {content.total_bytes / elapsed:.0f} bytes/s "
                        f"over {elapsed:.0f} s; the server needs {min_rate} bytes/s"
                    )
                )
                return
            handle = loop.call_later(_CHECK_SECONDS, check)

        handle = loop.call_later(timeout, check)
        try:
            return await handler(request)
        finally:
            handle.cancel()

    return deadline


def broken_body(exc: BaseException, request: web.Request) -> ProblemError | None:
    """The problem for a fault of the body stream, or None if `exc` is not one."""
    if isinstance(exc, BodyTooSlow):
        return ProblemError(408, "request_timeout", "Request body too slow", str(exc))
    if isinstance(exc, RequestPayloadError):
        cause = exc.__cause__ or exc
        coding = request.headers.get("Content-Encoding", "identity")[:40]
        return ProblemError(
            400,
            "undecodable_body",
            "The body cannot be decoded",
            f"the body does not match its Content-Encoding {coding!r} ({type(cause).__name__})",
        )
    return None
