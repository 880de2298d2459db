"""Partner API keys: hashed at rest (sha256), looked up by hash."""

from __future__ import annotations

from shared import MalformedCredentials, bearer_key, key_digest

from .errors import UnauthenticatedError
from .store import NotifierStore
from .subscriptions import Partner


def hash_api_key(api_key: str) -> str:
    """The stored form of an API key: hex sha256 (keys are long random tokens, not passwords)."""
    return key_digest(api_key)


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; raises UnauthenticatedError."""
    try:
        token = bearer_key(authorization)
    except MalformedCredentials:
        token = None
    if token is None:
        raise UnauthenticatedError("send 'Authorization: Bearer <partner API key>'")
    return token


async def authenticate(store: NotifierStore, authorization: str | None) -> Partner:
    """The partner owning the presented key; raises UnauthenticatedError."""
    partner = await store.partner_by_key_hash(hash_api_key(bearer_token(authorization)))
    if partner is None:
        raise UnauthenticatedError("the API key is not recognised")
    return partner
