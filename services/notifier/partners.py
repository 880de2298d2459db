"""Partner API keys: hashed at rest (sha256), looked up by hash."""

from __future__ import annotations

import hashlib

from .errors import UnauthenticatedError
from .store import NotifierStore
from .subscriptions import Partner


def hash_api_key(api_key: str) -> str:
    """The stored form of an API key: hex sha256 (keys are long random tokens, not passwords)."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; raises UnauthenticatedError."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthenticatedError("send 'Authorization: Bearer <partner API key>'")
    return token.strip()


async def authenticate(store: NotifierStore, authorization: str | None) -> Partner:
    """The partner owning the presented key; raises UnauthenticatedError."""
    partner = await store.partner_by_key_hash(hash_api_key(bearer_token(authorization)))
    if partner is None:
        raise UnauthenticatedError("the API key is not recognised")
    return partner
