"""RFC 9457 problem details: the one shape every HTTP error of ta-bridge takes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from aiohttp import web

from shared._errors import Conflict, Fault, InvalidInput, NotFound, TaBridgeError

__all__ = ["PROBLEM_TYPE_BASE", "ProblemError", "problem_from_error", "problem_response"]

PROBLEM_TYPE_BASE = "https://ta-bridge.wipo.int/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"


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


def problem_response(problem: ProblemError, instance: str | None = None) -> web.Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + problem.code,
        "code": problem.code,
        "title": problem.title,
        "status": problem.status,
    }
    if problem.detail:
        body["detail"] = problem.detail
    if instance:
        body["instance"] = instance
    if problem.faults:
        body["errors"] = [{"pointer": f.pointer, "message": f.message} for f in problem.faults]
    body.update(problem.extra)
    return web.Response(
        status=problem.status,
        body=orjson.dumps(body),
        content_type=PROBLEM_CONTENT_TYPE,
        headers=problem.headers,
    )


def problem_from_error(error: TaBridgeError) -> ProblemError:
    """Map the domain error tree onto HTTP."""
    if isinstance(error, InvalidInput):
        status = error.http_status or 422
        return ProblemError(status, error.code, "Invalid input", error.message, faults=error.faults)
    if isinstance(error, NotFound):
        return ProblemError(error.http_status or 404, error.code, "Not found", str(error))
    if isinstance(error, Conflict):
        status = error.http_status or 409
        title = "Precondition failed" if status == 412 else "Conflict"
        return ProblemError(status, error.code, title, str(error))
    return ProblemError(500, error.code, "Internal error", "the error was logged")
