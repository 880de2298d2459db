"""Stored first responses for `Idempotency-Key` replays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from services.registry.db.activities import utc_text
from shared.db import Connection


@dataclass(frozen=True, slots=True)
class StoredResponse:
    request_hash: str
    status: int
    body: bytes
    headers: dict[str, str]


class IdempotencyTable:
    async def find(self, conn: Connection, principal: str, key: str) -> StoredResponse | None:
        row = await conn.fetchrow(
            "SELECT request_hash, status, body, headers FROM idempotency_keys"
            " WHERE principal = ? AND idempotency_key = ?",
            (principal, key),
        )
        if row is None:
            return None
        return StoredResponse(row[0], int(row[1]), row[2].encode(), orjson.loads(row[3]))

    async def save(
        self, conn: Connection, principal: str, key: str, response: StoredResponse
    ) -> None:
        await conn.execute(
            "INSERT INTO idempotency_keys (principal, idempotency_key, request_hash, status, body,"
            " headers, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                principal,
                key,
                response.request_hash,
                response.status,
                response.body.decode(),
                orjson.dumps(response.headers).decode(),
                utc_text(datetime.now(UTC)),
            ),
        )
