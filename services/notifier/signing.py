"""Standard Webhooks signing: secrets and the three ``webhook-*`` headers.

A secret is ``whsec_`` + base64 of random bytes; the HMAC key is the decoded bytes. The
signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; each secret in force yields
one ``v1,<base64 HMAC-SHA256>`` entry, space-separated, so receivers holding either the old
or the new secret verify during a rotation's overlap window.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's marker, not a secret
SECRET_BYTES = 32


def generate_secret() -> str:
    """A fresh signing secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


@functools.lru_cache(maxsize=4096)
def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret; raises ValueError if it is not one.

    Cached: a subscription signs every webhook with the same one or two secrets."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("signing secrets start with 'whsec_'")
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


@functools.lru_cache(maxsize=4096)
def _keyed(secret: str) -> hmac.HMAC:
    """An HMAC-SHA256 already keyed with the secret; each signature works on a copy, so
    the key schedule (two hashed key blocks) is computed once per secret, not per webhook."""
    return hmac.new(secret_key(secret), digestmod=hashlib.sha256)


def sign(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<signature>`` entry for ``body`` under ``secret``."""
    mac = _keyed(secret).copy()
    mac.update(f"{msg_id}.{timestamp}.".encode())
    mac.update(body)  # the body is not copied into a new string for the signed content
    return "v1," + base64.b64encode(mac.digest()).decode("ascii")


def webhook_headers(
    secrets_in_force: Iterable[str], *, msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` headers."""
    signatures = [sign(s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets_in_force]
    if not signatures:
        raise ValueError("a webhook needs at least one signing secret")
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }
