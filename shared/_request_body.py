"""Reading request bodies safely: bounded size, checked media type, faults with pointers."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from shared._duplicate_keys import escape_pointer, first_duplicate_key
from shared._errors import Fault
from shared._event_model import faults_of
from shared._problems import ProblemError

__all__ = ["read_body", "read_json", "read_model", "validate_model"]

M = TypeVar("M", bound=BaseModel)

_JSON_TYPES = ("application/json", "application/merge-patch+json")


async def read_body(request: web.Request, limit: int) -> bytes:
    """The body, read in chunks and refused with 413 as soon as it passes `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit, request.content_length)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise _too_large(limit, None)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int, length: int | None) -> ProblemError:
    detail = f"the limit is {limit} bytes" + (f"; the body is {length}" if length else "")
    return ProblemError(413, "payload_too_large", "Request body too large", detail)


MAX_JSON_DEPTH = 64
"""Deeper than any document of ours: past it a body is refused before anything walks it
recursively (validation, merge patches)."""


def _too_deep(data: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


async def read_json(
    request: web.Request,
    *,
    limit: int = 1024 * 1024,
    media_types: tuple[str, ...] = _JSON_TYPES,
    max_depth: int = MAX_JSON_DEPTH,
) -> Any:
    """Parse a JSON body.

    Raises:
        ProblemError: 415 for another media type, 413 past `limit`, 400 for malformed JSON
            (with the position), for arrays and objects nested deeper than `max_depth`, and
            for an object holding a key twice (naming the key and the object's pointer).
    """
    if request.content_type not in media_types:
        raise ProblemError(
            415,
            "unsupported_media_type",
            "Unsupported media type",
            f"send {' or '.join(media_types)}, not {request.content_type!r}",
        )
    body = await read_body(request, limit)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ProblemError(
            400,
            "malformed_json",
            "Malformed JSON",
            f"{exc.msg} at line {exc.lineno}, column {exc.colno}",
            faults=[Fault("", exc.msg)],
        ) from exc
    if _too_deep(data, max_depth):
        raise ProblemError(
            400,
            "json_too_deep",
            "JSON nested too deeply",
            f"arrays and objects may nest {max_depth} levels deep",
            faults=[Fault("", f"nesting deeper than {max_depth}")],
        )
    duplicate = first_duplicate_key(body)
    if duplicate is not None:
        pointer, key = duplicate
        where = f"the object at {pointer}" if pointer else "the top-level object"
        raise ProblemError(
            400,
            "duplicate_json_key",
            "Duplicate JSON key",
            f"{key!r} appears more than once in {where}; send each key once",
            faults=[
                Fault(f"{pointer}/{escape_pointer(key)}", f"duplicate key {key!r}", "duplicate_key")
            ],
        )
    return data


def validate_model(model: type[M], data: Any) -> M:
    """Validate parsed JSON against `model`; 422 with a JSON pointer per fault."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ProblemError(
            422,
            "validation_failed",
            "Validation failed",
            f"{exc.error_count()} field(s) are invalid",
            faults=faults_of(exc),
        ) from exc


async def read_model(request: web.Request, model: type[M], *, limit: int = 1024 * 1024) -> M:
    """Read, parse and validate a JSON body as `model` (see `read_json`, `validate_model`)."""
    return validate_model(model, await read_json(request, limit=limit))
