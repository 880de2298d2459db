"""Operator views (`admin` scope): outbox backlog and the API keys in use."""

from __future__ import annotations

from aiohttp import web

from services.registry.auth import ScopedRoutes
from services.registry.state import KEYS, OUTBOX
from shared import json_response


async def outbox_status(request: web.Request) -> web.Response:
    backlog, oldest = await request.app[OUTBOX].backlog()
    return json_response({"backlog": backlog, "oldest_pending_at": oldest})


async def list_keys(request: web.Request) -> web.Response:
    keys = await request.app[KEYS].list()
    return json_response(
        {
            "keys": [
                {
                    "name": k.name,
                    "scopes": sorted(k.scopes),
                    "created_at": k.created_at,
                    "revoked_at": k.revoked_at,
                }
                for k in keys
            ]
        }
    )


def add_admin_routes(routes: ScopedRoutes) -> None:
    routes.add("GET", "/v1/admin/outbox", outbox_status, "admin")
    routes.add("GET", "/v1/admin/keys", list_keys, "admin")
