"""API-key authentication and scope checks: 401 without a valid key, 403 without the scope.

Scopes nest: `admin` ⊇ `write` ⊇ `read`. Each route declares the scope it needs when it is
added (see `ScopedRoutes`); routes outside `/v1/` (health, metrics, OpenAPI) are open.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp.web_urldispatcher import AbstractRoute

from services.registry.db.api_keys import ApiKey, ApiKeyTable
from shared import MAX_KEY_CHARS, MalformedCredentials, ProblemError, bearer_key

IMPLIED = {"read": {"read"}, "write": {"read", "write"}, "admin": {"read", "write", "admin"}}


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return any(scope in IMPLIED.get(granted, set()) for granted in self.scopes)


PRINCIPAL = web.RequestKey("principal", Principal)
ROUTE_SCOPES = web.AppKey("route_scopes", dict[AbstractRoute, str])

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ScopedRoutes:
    """Adds routes together with the scope each one requires."""

    def __init__(self, app: web.Application) -> None:
        self._app = app
        app.setdefault(ROUTE_SCOPES, {})

    def add(self, method: str, path: str, handler: Handler, scope: str) -> None:
        route = self._app.router.add_route(method, path, handler)
        self._app[ROUTE_SCOPES][route] = scope


class KeyCache:
    """Looks keys up by hash; with `ttl` > 0 it remembers answers that long.

    The default, 0, asks the store every time (one indexed read): a key revoked by
    `python -m services.registry.cli keys revoke` in another process stops working at once.
    """

    def __init__(self, keys: ApiKeyTable, ttl: float = 0.0) -> None:
        self._keys = keys
        self._ttl = ttl
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}

    async def find(self, key: str) -> ApiKey | None:
        if self._ttl <= 0:
            return await self._keys.find(key)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        found = await self._keys.find(key)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (now + self._ttl, found)
        return found


def _presented_key(request: web.Request) -> str | None:
    """The key a request presents: `Authorization: Bearer <key>`, else `X-API-Key: <key>`;
    None when there is none or the header is malformed (both answer 401)."""
    try:
        key = bearer_key(request.headers.get("Authorization"))
    except MalformedCredentials:
        return None
    if key is not None:
        return key
    fallback = request.headers.get("X-API-Key", "").strip()
    return fallback if 0 < len(fallback) <= MAX_KEY_CHARS else None


def auth_middleware(
    cache_of: Callable[[], KeyCache],
) -> Middleware:
    """`cache_of` gives the key cache once the app has started (it needs the database)."""

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        scope = request.app[ROUTE_SCOPES].get(request.match_info.route)
        if scope is None:
            return await handler(request)
        presented = _presented_key(request)
        found = await cache_of().find(presented) if presented else None
        if found is None:
            raise ProblemError(
                401,
                "unauthenticated",
                "Authentication required",
                "send a valid API key as 'Authorization: Bearer <key>'"
                if presented is None
                else "the API key is unknown or revoked",
                headers={"WWW-Authenticate": 'Bearer realm="ta-bridge registry"'},
            )
        principal = Principal(found.name, found.scopes)
        if not principal.allows(scope):
            raise ProblemError(
                403,
                "insufficient_scope",
                "Insufficient scope",
                f"this route needs the {scope!r} scope; the key has {sorted(found.scopes)}",
            )
        request[PRINCIPAL] = principal
        return await handler(request)

    return authenticate
