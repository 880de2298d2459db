"""Problems for requests refused by aiohttp's HTTP parser, before any middleware runs.

An over-long request line or header, a malformed request line or header, or a content
coding aiohttp cannot decode (`br`, `zstd` without their libraries) never reaches the
application: the protocol answers it itself, through `RequestHandler.handle_error`, with a
text/plain body. `ProblemRequestHandler` overrides that one method so these answers are the
same problem documents as every other error (`shared._problems`), with a precise code;
5xx answers and the connection handling (always closed afterwards) stay aiohttp's.

aiohttp has no setting for the protocol class: `web.Server` builds `RequestHandler`s
itself. `ProblemServer` builds this subclass instead, and `ProblemAppRunner` (an
`AppRunner`, used by `serve()`) serves the app through it.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import orjson
from aiohttp import web
from aiohttp.http_exceptions import (
    BadHttpMessage,
    BadHttpMethod,
    BadStatusLine,
    ContentEncodingError,
    InvalidHeader,
    InvalidURLError,
    LineTooLong,
)
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from shared._problems import PROBLEM_CONTENT_TYPE, ProblemError, problem_document

__all__ = ["ProblemAppRunner", "ProblemRequestHandler", "ProblemServer", "parser_problem"]

_CODING = re.compile(r"\((br|zstd)\)")
_LIMIT = re.compile(r"more than (\d+) bytes")
#: What the parser was reading when it gave up: the target (C parser) or the whole request
#: line (Python parser) of a request line too long, else a header name or value.
_REQUEST_LINE = re.compile(r"reading: (?:bytearray\()?b?['\"](/|[A-Z]+ )")


#: Refusals whose answer does not depend on the message (most specific first).
_FIXED: tuple[tuple[type[BaseException], str, str], ...] = (
    (BadHttpMethod, "malformed_request_line", "the HTTP method is not valid"),
    (InvalidURLError, "malformed_request_line", "the request target is not a valid URL"),
    (BadStatusLine, "malformed_request_line", "the request line is not `METHOD target HTTP/1.1`"),
    (InvalidHeader, "malformed_header", "a header name or value is not valid"),
)


def _unsupported_coding(text: str) -> ProblemError:
    found = _CODING.search(text)
    coding = found.group(1) if found else "this coding"
    return ProblemError(
        415,
        "unsupported_content_encoding",
        "Unsupported content encoding",
        f"send the body as identity, gzip or deflate, not {coding!r}",
    )


def _too_long(text: str) -> ProblemError:
    limit = _LIMIT.search(text)
    bound = f" (the limit is {limit.group(1)} bytes)" if limit else ""
    if _REQUEST_LINE.search(text):
        return ProblemError(
            414, "uri_too_long", "URI too long", f"the request line is too long{bound}"
        )
    return ProblemError(
        431,
        "header_too_large",
        "Request header fields too large",
        f"a header is too long{bound}",
    )


def parser_problem(status: int, exc: BaseException | None, message: str | None) -> ProblemError:
    """The problem for a request the parser refused with `status` (< 500)."""
    text = str(exc) if exc is not None else (message or "")
    if isinstance(exc, ContentEncodingError):
        return _unsupported_coding(text)
    if isinstance(exc, LineTooLong):
        return _too_long(text)
    for kind, code, detail in _FIXED:
        if isinstance(exc, kind):
            return ProblemError(400, code, "Malformed request", detail)
    detail = exc.message if isinstance(exc, BadHttpMessage) else (message or text)
    return ProblemError(
        status, "malformed_request", "Malformed request", detail[:200] or "bad request"
    )


class ProblemRequestHandler(RequestHandler):
    """A `RequestHandler` whose own 4xx answers are problem documents."""

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:
            return super().handle_error(request, status, exc, message)
        self.logger.debug("refused by the HTTP parser", exc_info=exc)
        if request.writer.output_size > 0:
            raise ConnectionError("a response was already sent; cannot send the problem")
        problem = parser_problem(status, exc, message)
        try:
            instance = request.path
        except Exception:  # the URL itself may be what could not be parsed
            instance = "/"
        response = web.Response(
            status=problem.status,
            body=orjson.dumps(problem_document(problem, instance)),
            content_type=PROBLEM_CONTENT_TYPE,
        )
        response.force_close()
        return response


class ProblemServer(web.Server):
    """A `web.Server` whose connections are `ProblemRequestHandler`s."""

    def __call__(self) -> RequestHandler:
        return ProblemRequestHandler(self, loop=self._loop, **self._kwargs)


class ProblemAppRunner(web.AppRunner):
    """An `AppRunner` serving its app through a `ProblemServer`."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        kwargs: dict[str, Any] = dict(server._kwargs)
        return ProblemServer(
            server.request_handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            loop=asyncio.get_running_loop(),
            **kwargs,
        )
