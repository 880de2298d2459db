"""How the notifier reads request bodies: with the shared reader, so a malformed, oversized
or mistyped body gets the same problem answer as anywhere else.

Its errors (`errors`) are a branch of the shared tree; the base app's middleware answers
them through `shared._problems`, as for every service.
"""

from __future__ import annotations

from aiohttp import web

from shared import read_json

__all__ = ["MAX_BODY_BYTES", "json_body"]

#: The largest subscription request body read.
MAX_BODY_BYTES = 64 * 1024


async def json_body(request: web.Request) -> object:
    """The parsed JSON body (415, 413 and 400 problems as every service answers them)."""
    return await read_json(request, limit=MAX_BODY_BYTES, media_types=("application/json",))
