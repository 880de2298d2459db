"""Operator keys: who may read a service's internals (`/v1/status` detail, previews).

`TABRIDGE_OPERATOR_KEYS` holds them, comma-separated, each a plain key (16+ characters,
hashed at start-up) or `sha256:<hex>` (so plain keys need not sit in the environment of
every process). A request presents one as `Authorization: Bearer <key>`. Keys are compared
by their SHA-256 digest in constant time; none configured means no request is an operator.
"""

from __future__ import annotations

import re

from aiohttp import web

from shared._bearer import MalformedCredentials, bearer_key, digest_matches, key_digest
from shared._problems import ProblemError

__all__ = [
    "OPERATOR_KEYS",
    "is_operator",
    "operator_security_scheme",
    "parse_operator_keys",
    "require_operator",
]

OPERATOR_KEYS = web.AppKey("operator_keys", frozenset[str])
"""The SHA-256 hex digests of the operator keys (see the module docstring)."""

_HEX = re.compile(r"[0-9a-f]{64}")


def parse_operator_keys(value: str) -> frozenset[str]:
    """The digests named by a `TABRIDGE_OPERATOR_KEYS` value; ValueError for a bad entry."""
    digests: set[str] = set()
    for entry in (e.strip() for e in value.split(",")):
        if not entry:
            continue
        if entry.startswith("sha256:"):
            digest = entry.removeprefix("sha256:").lower()
            if not _HEX.fullmatch(digest):
                raise ValueError("a sha256: operator key needs 64 hex digits")
            digests.add(digest)
        elif len(entry) < 16:
            raise ValueError("an operator key needs at least 16 characters")
        else:
            digests.add(key_digest(entry))
    return frozenset(digests)


def _unauthorised(detail: str) -> ProblemError:
    return ProblemError(
        401,
        "unauthenticated",
        "Authentication required",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="ta-bridge operator"'},
    )


def is_operator(request: web.Request) -> bool:
    """True when the request carries an operator key, False when it carries no credentials.

    Raises:
        ProblemError: 401 when credentials are presented but are not an operator key (a
            misconfigured client should hear so, not silently get the public answer).
    """
    try:
        key = bearer_key(request.headers.get("Authorization"))
    except MalformedCredentials:
        raise _unauthorised("send an operator key as 'Authorization: Bearer <key>'") from None
    if key is None:
        return False
    known: frozenset[str] = request.app.get(OPERATOR_KEYS, frozenset())
    if not digest_matches(key, known):
        raise _unauthorised("the key is not an operator key")
    return True


def require_operator(request: web.Request) -> None:
    """Raises ProblemError 401 unless the request carries an operator key."""
    if not is_operator(request):
        raise _unauthorised("this route needs an operator key: 'Authorization: Bearer <key>'")


def operator_security_scheme() -> dict[str, dict[str, str]]:
    """The OpenAPI security scheme the operator routes name (`operatorKey`)."""
    return {
        "operatorKey": {
            "type": "http",
            "scheme": "bearer",
            "description": "An operator key (TABRIDGE_OPERATOR_KEYS)",
        }
    }
