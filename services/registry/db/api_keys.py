"""API keys, stored as SHA-256 hashes: the key itself is shown once, at creation."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from services.registry.db.activities import utc_text
from shared import Conflict, NotFound, key_digest
from shared.db import Database

SCOPES = ("read", "write", "admin")
KEY_PREFIX = "tbk_"


hash_key = key_digest


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class ApiKey:
    name: str
    scopes: frozenset[str]
    created_at: str
    revoked_at: str | None


class ApiKeyTable:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, name: str, scopes: frozenset[str], key: str | None = None) -> str:
        """Store a new key; return the key (generated unless given). Conflict if the name exists."""
        unknown = scopes - set(SCOPES)
        if unknown or not scopes:
            raise ValueError(f"scopes must be among {SCOPES}, got {sorted(scopes)}")
        key = key or new_key()
        async with self._db.transaction() as conn:
            if await conn.fetchrow("SELECT 1 FROM api_keys WHERE name = ?", (name,)):
                raise Conflict(f"an API key named {name!r} exists")
            await conn.execute(
                "INSERT INTO api_keys (name, key_hash, scopes, created_at) VALUES (?, ?, ?, ?)",
                (name, hash_key(key), ",".join(sorted(scopes)), utc_text(datetime.now(UTC))),
            )
        return key

    async def find(self, key: str) -> ApiKey | None:
        row = await self._db.point_read(
            "SELECT name, scopes, created_at, revoked_at FROM api_keys"
            " WHERE key_hash = ? AND revoked_at IS NULL",
            (hash_key(key),),
        )
        return ApiKey(row[0], frozenset(row[1].split(",")), row[2], row[3]) if row else None

    async def list(self) -> list[ApiKey]:
        async with self._db.read() as conn:
            rows = await conn.fetch(
                "SELECT name, scopes, created_at, revoked_at FROM api_keys ORDER BY name"
            )
        return [ApiKey(r[0], frozenset(r[1].split(",")), r[2], r[3]) for r in rows]

    async def revoke(self, name: str) -> None:
        async with self._db.transaction() as conn:
            count = await conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                (utc_text(datetime.now(UTC)), name),
            )
        if count != 1:
            raise NotFound(f"no active API key named {name!r}")
