"""The transactional outbox: rows written with each change, published by the relay.

A row's `body` is the event's JSON exactly as it is published. The transaction that writes
rows also hands them, once committed, to the relay in memory (`OutboxRecord`, with the event
and the snapshot already built and serialised), so the relay does not read back what was
just written; the table is read on start, after a failure and for rows this process did
not hand over (other replicas, other writers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from services.registry.db.activities import utc_text
from services.registry.db.store import REGISTRY_STORE
from shared import Event
from shared.db import Connection, Database


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    activity_id: str
    event_type: str
    event_id: str
    body: str
    traceparent: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxRow:
    seq: int
    activity_id: str
    event_type: str
    event_id: str
    body: str
    traceparent: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """A committed outbox row as its writer holds it: what the relay publishes, ready.

    `event` and `snapshot` are the two events the row stands for; `body` and
    `snapshot_body` their JSON (`body` is the stored column, byte for byte).
    """

    seq: int
    event_id: str
    event: Event
    body: bytes
    snapshot: Event
    snapshot_body: bytes
    traceparent: str | None
    created_at: datetime


class OutboxTable:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, conn: Connection, entry: OutboxEntry) -> int:
        """Insert the row; return its sequence number."""
        # A sequence number is drawn at insert, not at commit: without this lock a
        # transaction could draw 7, another draw 8 and commit first, and a relay reading
        # then would publish 8 before 7. Under it, the writers that draw numbers commit
        # in the order they drew them, so the committed rows are always a prefix in `seq`.
        # (Write transactions take it when they begin; this keeps it held regardless.)
        await conn.serialise(REGISTRY_STORE.write_lock)
        row = await conn.fetchrow(
            "INSERT INTO outbox (activity_id, event_type, event_id, body, traceparent, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING seq",
            (
                entry.activity_id,
                entry.event_type,
                entry.event_id,
                entry.body,
                entry.traceparent,
                utc_text(entry.created_at),
            ),
        )
        assert row is not None
        return int(row[0])

    async def pending(self, limit: int) -> list[OutboxRow]:
        """The oldest unpublished rows, in commit order (and so in order per activity)."""
        async with self._db.read() as conn:
            rows = await conn.fetch(
                "SELECT seq, activity_id, event_type, event_id, body, traceparent, created_at"
                " FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ?",
                (limit,),
            )
        return [OutboxRow(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]

    async def last_seq(self) -> int:
        """The highest sequence number written so far (0 for an empty outbox)."""
        async with self._db.read() as conn:
            row = await conn.fetchrow("SELECT max(seq) FROM outbox")
        return int(row[0]) if row is not None and row[0] is not None else 0

    async def mark_published(self, seqs: list[int]) -> None:
        if not seqs:
            return
        now = utc_text(datetime.now(UTC))
        async with self._db.transaction() as conn:
            await conn.execute(
                f"UPDATE outbox SET published_at = ? WHERE seq IN ({', '.join('?' for _ in seqs)})",
                (now, *seqs),
            )

    async def backlog(self) -> tuple[int, str | None]:
        """How many rows wait, and when the oldest of them was written."""
        async with self._db.read() as conn:
            row = await conn.fetchrow(
                "SELECT count(*), min(created_at) FROM outbox WHERE published_at IS NULL"
            )
        assert row is not None
        return int(row[0]), row[1]
