"""RFC 9457 problem details: the one shape every HTTP error of ta-bridge takes.

Every service answers every error with the same document (`problem_document`):

    {"type": "https://ta-bridge.wipo.int/problems/<code>", "code": "<code>",
     "title": "...", "status": 422, "detail": "...", "instance": "/the/path",
     "errors": [{"pointer": "/json/pointer", "message": "...", "code": "<fault code>"}]}

`code` is snake_case and names the fault, not the service: the same fault gets the same
code from every service and every method (`validation_failed` for a body that does not
validate, on POST as on PATCH; `malformed_json`, `payload_too_large`, `not_found`,
`method_not_allowed` with an `Allow` header, `unauthenticated`). `instance` is always the
request's path. `errors` (only for invalid input) types each fault with its own code
(pydantic's error type, e.g. `missing`, `int_parsing`, or `invalid`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from aiohttp import web

from shared._errors import Conflict, Fault, InvalidInput, NotFound, TaBridgeError, Unauthenticated

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "PROBLEM_SCHEMA",
    "PROBLEM_TYPE_BASE",
    "ProblemError",
    "http_problem",
    "problem_document",
    "problem_from_error",
    "problem_response",
]

PROBLEM_TYPE_BASE = "https://ta-bridge.wipo.int/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"
#: The code of a body (or query) that does not validate, whoever finds it.
VALIDATION_FAILED = "validation_failed"


#: The OpenAPI (JSON Schema) description of the document, for every service's /openapi.json.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details, the same from every ta-bridge service.",
    "required": ["type", "code", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "format": "uri", "description": PROBLEM_TYPE_BASE + "<code>"},
        "code": {"type": "string", "description": "snake_case name of the fault"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "the request path"},
        "errors": {
            "type": "array",
            "description": "for invalid input: each fault, located",
            "items": {
                "type": "object",
                "required": ["pointer", "message", "code"],
                "properties": {
                    "pointer": {"type": "string", "description": "JSON pointer (or /query/<name>)"},
                    "message": {"type": "string"},
                    "code": {"type": "string", "description": "the fault's kind, e.g. missing"},
                },
            },
        },
    },
}


class ProblemError(Exception):
    """Raise from a view to answer with a problem document."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        *,
        faults: Sequence[Fault] = (),
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.faults = tuple(faults)
        self.headers = headers or {}
        self.extra = extra or {}


def problem_document(problem: ProblemError, instance: str) -> dict[str, Any]:
    """The JSON document of `problem`, answered for the request path `instance`."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + problem.code,
        "code": problem.code,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail or problem.title,
        "instance": instance,
    }
    if problem.faults:
        body["errors"] = [
            {"pointer": f.pointer, "message": f.message, "code": f.code} for f in problem.faults
        ]
    body.update(problem.extra)
    return body


def problem_response(problem: ProblemError, instance: str) -> web.Response:
    return web.Response(
        status=problem.status,
        body=orjson.dumps(problem_document(problem, instance)),
        content_type=PROBLEM_CONTENT_TYPE,
        headers=problem.headers,
    )


def problem_from_error(error: TaBridgeError) -> ProblemError:
    """Map the domain error tree onto HTTP."""
    if isinstance(error, InvalidInput):
        status = error.http_status or 422
        # A plain InvalidInput is a validation failure like any other; subclasses that
        # name a more precise fault keep their own code.
        code = VALIDATION_FAILED if error.code == InvalidInput.code else error.code
        title = error.title or "Validation failed"
        return ProblemError(status, code, title, error.message, faults=error.faults)
    if isinstance(error, Unauthenticated):
        return ProblemError(
            401,
            error.code,
            error.title or "Authentication required",
            str(error),
            headers={"WWW-Authenticate": "Bearer"},
        )
    if isinstance(error, NotFound):
        title = error.title or "Not found"
        return ProblemError(error.http_status or 404, error.code, title, str(error))
    if isinstance(error, Conflict):
        status = error.http_status or 409
        title = error.title or ("Precondition failed" if status == 412 else "Conflict")
        return ProblemError(status, error.code, title, str(error))
    return ProblemError(500, "internal_error", "Internal error", "the error was logged")


_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def http_problem(http: web.HTTPException, request: web.Request) -> ProblemError:
    """The problem for an aiohttp HTTP error (no route, wrong method, ...)."""
    status = http.status
    code = _HTTP_CODES.get(status, f"http_{status}")
    headers: dict[str, str] = {}
    if isinstance(http, web.HTTPMethodNotAllowed):
        allowed = sorted(http.allowed_methods)
        headers["Allow"] = ", ".join(allowed)
        detail = f"{request.method} is not allowed on {request.path}; use {', '.join(allowed)}"
    elif status == 404:
        detail = f"nothing at {request.path}"
    else:
        detail = http.text.removeprefix(f"{status}: ") if http.text else http.reason
    return ProblemError(status, code, http.reason, detail, headers=headers)
