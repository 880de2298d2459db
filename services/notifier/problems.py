"""The notifier's errors as problem details, in the one vocabulary of `shared._problems`.

The notifier's own error tree (`errors`) is mapped onto `ProblemError`s here; the document
(absolute `type`, snake_case `code`, `instance`, typed `errors`) is built by the shared
module, as for every other service. Bodies are read with the shared reader, so a
malformed, oversized or mistyped body gets the same answer as anywhere else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from aiohttp import web

from shared import Fault, ProblemError, TaBridgeError, problem_response, read_json
from shared._problems import problem_from_error

from .errors import (
    InvalidRequestError,
    NotifierError,
    SubscriptionConflictError,
    SubscriptionNotFoundError,
    UnauthenticatedError,
    UnsafeTargetError,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: The largest subscription request body read.
MAX_BODY_BYTES = 64 * 1024

#: error class -> (HTTP status, problem code, title); first match wins.
_MAPPING: list[tuple[type[NotifierError], int, str, str]] = [
    (UnsafeTargetError, 422, "unsafe_target", "Webhook target refused"),
    (InvalidRequestError, 422, "validation_failed", "Validation failed"),
    (UnauthenticatedError, 401, "unauthenticated", "Authentication required"),
    (SubscriptionNotFoundError, 404, "subscription_not_found", "Not found"),
    (SubscriptionConflictError, 409, "subscription_conflict", "Conflict"),
]


def problem_of(exc: NotifierError) -> ProblemError:
    for cls, status, code, title in _MAPPING:
        if isinstance(exc, cls):
            faults = (
                [Fault(e.pointer, e.message, e.code) for e in exc.errors]
                if isinstance(exc, InvalidRequestError)
                else []
            )
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            return ProblemError(status, code, title, str(exc), faults=faults, headers=headers)
    return ProblemError(500, "internal_error", "Internal error", "the error was logged")


def from_error(exc: NotifierError, instance: str) -> web.Response:
    return problem_response(problem_of(exc), instance)


def problem_responses(handler: Handler) -> Handler:
    """Turn the errors raised by ``handler`` into problem+json answers (the base app's
    middleware does the same; this keeps the views' answers whatever app mounts them)."""

    @wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except NotifierError as exc:
            return from_error(exc, request.path)
        except ProblemError as problem:
            return problem_response(problem, request.path)
        except TaBridgeError as error:
            return problem_response(problem_from_error(error), request.path)

    return wrapped


async def json_body(request: web.Request) -> object:
    """The parsed JSON body (415, 413 and 400 problems as every service answers them)."""
    return await read_json(request, limit=MAX_BODY_BYTES, media_types=("application/json",))
