"""API keys as requests present them: `Authorization: Bearer <key>`, held as SHA-256 digests.

One parser for every service, so a key that one service takes is taken by all and a
malformed header is refused the same way everywhere. Each service turns a refusal into its
own 401 (with its own realm); the parser itself knows nothing of HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from shared._errors import Unauthenticated

#: Longer than any key ta-bridge issues (43 characters); anything longer is refused
#: before it is hashed or looked up.
MAX_KEY_CHARS = 512


class MalformedCredentials(Unauthenticated):
    """An `Authorization` header that is not `Bearer <key>` (other scheme, no key, over-long)."""


def bearer_key(authorization: str | None) -> str | None:
    """The key in an `Authorization` header value, or None when there is no header.

    Raises:
        MalformedCredentials: the header is there but is not `Bearer <key>` with a key of
            at most `MAX_KEY_CHARS` characters.
    """
    if authorization is None:
        return None
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise MalformedCredentials("send the API key as 'Authorization: Bearer <key>'")
    if len(key) > MAX_KEY_CHARS:
        raise MalformedCredentials(f"the key is longer than {MAX_KEY_CHARS} characters")
    return key


def key_digest(key: str) -> str:
    """The SHA-256 hex digest a key is stored as. Keys are 256-bit random strings, so a
    fast hash is enough: there is nothing to brute-force."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def digest_matches(key: str, digests: Iterable[str]) -> bool:
    """Whether `key` hashes to one of `digests`; every digest is compared, so the time taken
    reveals none of them."""
    presented = key_digest(key)
    matched = False
    for digest in digests:
        matched |= hmac.compare_digest(presented, digest)
    return matched
