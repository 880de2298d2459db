"""Signing secrets at rest: AES-256-GCM under keys from the settings, with rotation.

The notifier must be able to sign with a subscription's secret, so secrets are encrypted
(not hashed) before they reach the SQLite file. A stored value is::

    aesgcm:<key id>:<base64url(12-byte nonce + ciphertext + 16-byte tag)>

The key id is the first 8 hex digits of the key's SHA-256, so a value names the key it was
sealed with without the key being configured by name. The additional data binds a value to
its subscription id: a value copied onto another row does not open.

Rotation: ``NOTIFIER_SECRET_KEYS`` is a list; the first key seals, every key opens. At
start-up the store re-seals every row sealed by another key (or still in plain text, as rows
written before encryption are) under the first, so a retired key can be dropped after one
restart. A value sealed by a key that is not configured fails the start with that key's id.

Without configured keys (``make run``, tests) the key is a file beside the store, created
0600 on first use (:meth:`SecretBox.from_key_file`); the service logs that it uses one.
Deployments set ``NOTIFIER_ALLOW_KEY_FILE=false`` so a missing key fails the start.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "KEY_FILE_NAME",
    "SEALED_PREFIX",
    "SecretBox",
    "SecretKeyError",
    "generate_key",
    "is_sealed",
    "parse_key",
]

SEALED_PREFIX = "aesgcm:"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_FILE_NAME = "notifier-secret.key"
_AAD = b"ta-bridge/notifier/subscription-secrets/"


class SecretKeyError(ValueError):
    """A key is malformed, or a stored value cannot be opened with the keys configured."""


def generate_key() -> str:
    """A fresh key in its settings form: base64url of 32 random bytes."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def parse_key(text: str) -> bytes:
    """The 32 bytes of a key given as base64 (standard or url-safe); raises SecretKeyError."""
    value = text.strip()
    try:
        raw = base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError) as exc:
        raise SecretKeyError("a secret key is base64 of 32 bytes") from exc
    if len(raw) != KEY_BYTES:
        raise SecretKeyError(f"a secret key is base64 of 32 bytes, this one has {len(raw)}")
    return raw


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)


class SecretBox:
    """Seals and opens the signing secrets of one subscription row."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise SecretKeyError("at least one secret key is needed")
        self._keys = {_key_id(k): AESGCM(k) for k in keys}
        self._sealing_id = _key_id(keys[0])

    @classmethod
    def from_settings(cls, keys: Sequence[str]) -> SecretBox:
        return cls([parse_key(k) for k in keys])

    @classmethod
    def from_key_file(cls, path: str | Path) -> tuple[SecretBox, bool]:
        """The box of the key in ``path``, creating the file (0600) if missing; and whether
        it was created."""
        file = Path(path)
        created = False
        try:
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(generate_key() + "\n")
            created = True
        return cls([parse_key(file.read_text(encoding="ascii"))]), created

    @property
    def sealing_key_id(self) -> str:
        return self._sealing_id

    def seal(self, plaintext: str, *, subscription_id: str) -> str:
        """``plaintext`` sealed under the first key, bound to ``subscription_id``."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._keys[self._sealing_id].encrypt(
            nonce, plaintext.encode("utf-8"), _AAD + subscription_id.encode("utf-8")
        )
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{SEALED_PREFIX}{self._sealing_id}:{body}"

    def open(self, stored: str, *, subscription_id: str) -> str:
        """The plaintext of a value :meth:`seal` produced for ``subscription_id``.

        Raises:
            SecretKeyError: the value names a key not configured, or does not verify.
        """
        key_id, _, body = stored.removeprefix(SEALED_PREFIX).partition(":")
        cipher = self._keys.get(key_id)
        if cipher is None:
            raise SecretKeyError(
                f"subscription {subscription_id}'s signing secrets are sealed with key "
                f"{key_id}, which is not among the configured secret keys"
            )
        try:
            raw = base64.urlsafe_b64decode(body)
            plain = cipher.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], _AAD + subscription_id.encode("utf-8")
            )
        except (binascii.Error, ValueError, InvalidTag) as exc:
            raise SecretKeyError(
                f"subscription {subscription_id}'s signing secrets do not verify under key "
                f"{key_id} (tampered, or copied from another row)"
            ) from exc
        return plain.decode("utf-8")

    def needs_resealing(self, stored: str) -> bool:
        """Whether ``stored`` is plain text or sealed by a key other than the first."""
        return not stored.startswith(f"{SEALED_PREFIX}{self._sealing_id}:")
