"""RFC 9457 problem details for the notifier's HTTP API."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from aiohttp import web

from .errors import (
    FieldError,
    InvalidRequestError,
    NotifierError,
    SubscriptionConflictError,
    SubscriptionNotFoundError,
    UnauthenticatedError,
    UnsafeTargetError,
)

PROBLEM_JSON = "application/problem+json"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: error class -> (HTTP status, problem code, title); first match wins.
_MAPPING: list[tuple[type[NotifierError], int, str, str]] = [
    (UnsafeTargetError, 422, "unsafe-target", "Webhook target refused"),
    (InvalidRequestError, 422, "validation-failed", "The request is not valid"),
    (UnauthenticatedError, 401, "unauthenticated", "Authentication required"),
    (SubscriptionNotFoundError, 404, "subscription-not-found", "Subscription not found"),
    (SubscriptionConflictError, 409, "subscription-conflict", "Subscription state conflict"),
]


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "code": code,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = [{"pointer": e.pointer, "message": e.message} for e in errors]
    return web.Response(
        status=status, text=json.dumps(body), content_type=PROBLEM_JSON, headers=headers
    )


def from_error(exc: NotifierError) -> web.Response:
    for cls, status, code, title in _MAPPING:
        if isinstance(exc, cls):
            errors = exc.errors if isinstance(exc, InvalidRequestError) else None
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            return problem(status, code, title, str(exc), errors, headers)
    return problem(500, "internal", "Internal error", "unexpected notifier error")


def problem_responses(handler: Handler) -> Handler:
    """Turn the notifier's errors raised by ``handler`` into problem+json answers."""

    @wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except NotifierError as exc:
            return from_error(exc)

    return wrapped


async def json_body(request: web.Request) -> object:
    """The parsed JSON body; raises InvalidRequestError (pointer ``""``) when it is not JSON."""
    if request.content_type != "application/json":
        raise InvalidRequestError(
            "send a JSON body with 'Content-Type: application/json'",
            [FieldError("", f"content type is {request.content_type!r}")],
        )
    try:
        return json.loads(await request.read())
    except RecursionError as exc:
        raise InvalidRequestError(
            "the body nests too deeply", [FieldError("", "JSON nesting is too deep")]
        ) from exc
    except ValueError as exc:
        raise InvalidRequestError("the body is not valid JSON", [FieldError("", str(exc))]) from exc
