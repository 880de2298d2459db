"""The notifier store on SQLite, one file per service instance."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from .deliveries import Attempt, AttemptOutcome, Delivery, DeliveryStatus, Lane
from .delivery_stats import DeliveryStats
from .secret_box import KEY_FILE_NAME, SecretBox, SecretKeyError
from .sqlite_db import SqliteDb
from .sqlite_rows import (
    DELIVERY_COLUMNS,
    SCHEMA,
    attempt_from,
    attempt_values,
    delivery_from,
    delivery_state,
    dt,
    sealed_secrets,
    subscription_from,
    subscription_values,
    ts,
)
from .subscriptions import Partner, Subscription, SubscriptionStatus

#: A multi-row insert that skips known (subscription, event, generation) triples and
#: deliveries of unknown subscriptions, and says which rows it added (``RETURNING``).
_INSERT_DELIVERIES = (
    "INSERT OR IGNORE INTO deliveries (id, subscription_id, event_id, event_type, subject, body,"
    " traceparent, status, attempts, next_attempt_at, created_at, generation, last_error,"
    " finished_at) SELECT column1, column2, column3, column4, column5, column6, column7,"
    " column8, column9, column10, column11, column12, column13, column14"
    " FROM (VALUES {rows}) WHERE column2 IN (SELECT id FROM subscriptions)"
    " RETURNING seq, id"
)
_ROW = "(" + ", ".join(["?"] * 14) + ")"
#: 14 parameters a row stays far below SQLite's 32,766 bound variables per statement.
_ROWS_PER_INSERT = 500

_LATEST = (
    "generation = (SELECT MAX(generation) FROM deliveries AS g"
    " WHERE g.subscription_id = deliveries.subscription_id AND g.event_id = deliveries.event_id)"
)


def _key_file_box(db_path: Path | None) -> SecretBox:
    if db_path is None:
        raise SecretKeyError("a store on a connection of unknown file needs a secret box")
    return SecretBox.from_key_file(db_path.parent / KEY_FILE_NAME)[0]


def _delivery_values(d: Delivery) -> tuple[object, ...]:
    return (
        d.id,
        d.subscription_id,
        d.event_id,
        d.event_type,
        d.subject,
        b"",  # the body is stored once per event, in event_bodies
        d.traceparent,
        d.status.value,
        d.attempts,
        ts(d.next_attempt_at),
        ts(d.created_at),
        d.generation,
        d.last_error,
        ts(d.finished_at),
    )


class SqliteStore:
    """:class:`~services.notifier.store.NotifierStore` on one :class:`SqliteDb`.

    Every method is one unit of work on the connection's thread (one transaction for a
    write, however many statements), so methods never interleave. Use :meth:`open` /
    :meth:`close`.

    The store owns its file (one per service instance): subscriptions are read once at open
    and kept in memory, written through on every change, so the dispatcher's look-up of a
    subscription before each attempt costs no statement.
    """

    def __init__(
        self,
        db: SqliteDb,
        subscriptions: dict[str, Subscription] | None = None,
        *,
        secret_box: SecretBox | None = None,
        resealed: int = 0,
    ) -> None:
        self._db = db
        self._box = secret_box or _key_file_box(db.path)
        self._subscriptions = subscriptions or {}
        self.resealed = resealed
        """Rows whose secrets :meth:`open` sealed anew (plain text, or an older key)."""

    @classmethod
    async def open(cls, path: str | Path, *, secret_box: SecretBox | None = None) -> SqliteStore:
        """Open (creating if needed) the database file and its schema.

        Signing secrets are sealed by ``secret_box`` (default: the key file beside the
        store, created if missing). Rows still in plain text or sealed by an older key are
        sealed under the box's first key before this returns, and the file is vacuumed so
        no plain copy survives in freed pages.

        Raises:
            SecretKeyError: a row is sealed by a key the box does not hold.
        """
        box = secret_box or _key_file_box(Path(path))
        db = await SqliteDb.open(path, schema=SCHEMA)
        try:
            rows = await db.read(lambda c: c.execute("SELECT * FROM subscriptions").fetchall())
            subscriptions = {row["id"]: subscription_from(row, box) for row in rows}
            stale = [r["id"] for r in rows if box.needs_resealing(str(r["secrets"]))]
            if stale:
                await db.transaction(
                    lambda c: c.executemany(
                        "UPDATE subscriptions SET secrets = ? WHERE id = ?",
                        [(sealed_secrets(subscriptions[i], box), i) for i in stale],
                    )
                )
                await db.compact()
        except BaseException:
            await db.close()
            raise
        return cls(db, subscriptions, secret_box=box, resealed=len(stale))

    async def close(self) -> None:
        await self._db.close()

    @property
    def db(self) -> SqliteDb:
        """The connection, for a table sharing the file (see ``SqliteActivityIndex.sharing``)."""
        return self._db

    async def _rows(
        self, sql: str, params: Sequence[object] | dict[str, object] = ()
    ) -> list[sqlite3.Row]:
        return await self._db.read(lambda c: c.execute(sql, params).fetchall())

    async def add_partner(self, partner: Partner, *, key_hashes: Iterable[str]) -> None:
        hashes = list(key_hashes)

        def work(c: sqlite3.Connection) -> None:
            _upsert_partner(c, partner)
            c.executemany(
                "INSERT OR REPLACE INTO partner_keys (key_hash, partner_id) VALUES (?, ?)",
                [(h, partner.id) for h in hashes],
            )

        await self._db.transaction(work)

    async def set_partner_keys(self, partner: Partner, *, key_hashes: Iterable[str]) -> None:
        hashes = list(key_hashes)

        def work(c: sqlite3.Connection) -> None:
            _upsert_partner(c, partner)
            c.execute("DELETE FROM partner_keys WHERE partner_id = ?", (partner.id,))
            c.executemany(
                "INSERT OR REPLACE INTO partner_keys (key_hash, partner_id) VALUES (?, ?)",
                [(h, partner.id) for h in hashes],
            )

        await self._db.transaction(work)

    async def partner_by_key_hash(self, key_hash: str) -> Partner | None:
        rows = await self._rows(
            "SELECT p.id, p.name FROM partner_keys k JOIN partners p ON p.id = k.partner_id"
            " WHERE k.key_hash = ?",
            (key_hash,),
        )
        return Partner(rows[0]["id"], rows[0]["name"]) if rows else None

    async def insert_subscription(self, subscription: Subscription) -> None:
        values = subscription_values(subscription, self._box)
        await self._db.transaction(
            lambda c: c.execute(
                "INSERT INTO subscriptions (partner_id, url, event_types, filters, secrets,"
                " status, description, disabled_reason, created_at, updated_at, id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
        )
        self._subscriptions[subscription.id] = replace(subscription, failing_since=None)

    async def get_subscription(self, subscription_id: str) -> Subscription | None:
        return self._subscriptions.get(subscription_id)

    async def list_subscriptions(
        self, partner_id: str, *, after: str | None = None, limit: int = 100
    ) -> list[Subscription]:
        rows = await self._rows(
            "SELECT * FROM subscriptions WHERE partner_id = ? AND id > ? ORDER BY id LIMIT ?",
            (partner_id, after or "", limit),
        )
        return [subscription_from(r, self._box) for r in rows]

    async def routable_subscriptions(self) -> list[Subscription]:
        return [
            s for s in self._subscriptions.values() if s.status is not SubscriptionStatus.DISABLED
        ]

    async def save_subscription(self, subscription: Subscription) -> None:
        values = subscription_values(subscription, self._box)
        await self._db.transaction(
            lambda c: c.execute(
                "UPDATE subscriptions SET partner_id = ?, url = ?, event_types = ?, filters = ?,"
                " secrets = ?, status = ?, description = ?, disabled_reason = ?,"
                " created_at = ?, updated_at = ? WHERE id = ?",
                values,
            )
        )
        current = self._subscriptions.get(subscription.id)
        if current is not None:
            self._subscriptions[subscription.id] = replace(
                subscription, failing_since=current.failing_since
            )

    async def delete_subscription(self, subscription_id: str) -> None:
        def work(c: sqlite3.Connection) -> None:
            for table in ("attempts", "deliveries"):
                c.execute(
                    f"DELETE FROM {table} WHERE subscription_id = ?",  # noqa: S608 - fixed names
                    (subscription_id,),
                )
            c.execute("DELETE FROM subscriptions WHERE id = ?", (subscription_id,))

        await self._db.transaction(work)
        self._subscriptions.pop(subscription_id, None)

    async def note_endpoint_failure(self, subscription_id: str, at: datetime) -> datetime | None:
        def work(c: sqlite3.Connection) -> sqlite3.Row | None:
            c.execute(
                "UPDATE subscriptions SET failing_since = COALESCE(failing_since, ?) WHERE id = ?",
                (ts(at), subscription_id),
            )
            row: sqlite3.Row | None = c.execute(
                "SELECT failing_since FROM subscriptions WHERE id = ?", (subscription_id,)
            ).fetchone()
            return row

        row = await self._db.transaction(work)
        if row is None:
            return None
        since = datetime.fromisoformat(row[0])
        current = self._subscriptions.get(subscription_id)
        if current is not None:
            self._subscriptions[subscription_id] = replace(current, failing_since=since)
        return since

    async def note_endpoint_success(self, subscription_id: str) -> None:
        await self._db.transaction(
            lambda c: c.execute(
                "UPDATE subscriptions SET failing_since = NULL WHERE id = ?", (subscription_id,)
            )
        )
        current = self._subscriptions.get(subscription_id)
        if current is not None and current.failing_since is not None:
            self._subscriptions[subscription_id] = replace(current, failing_since=None)

    async def enqueue(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        return await self.write_batch(deliveries)

    async def write_batch(
        self,
        new: Sequence[Delivery],
        attempts: Sequence[tuple[Attempt, Delivery]] = (),
    ) -> list[Delivery]:
        rows = [_delivery_values(d) for d in new]
        bodies = list({d.event_id: (d.event_id, d.body) for d in new}.items())
        states = [(*delivery_state(d), d.id) for _, d in attempts]
        records = [(*attempt_values(a), d.id) for a, d in attempts]
        seqs = await self._db.transaction(
            lambda c: _write_batch(c, [v for _, v in bodies], rows, states, records)
        )
        added = [replace(d, seq=seqs[d.id]) for d in new if d.id in seqs]
        added.sort(key=lambda d: d.seq)
        return added

    async def lane_pending(self, lane: Lane) -> list[Delivery]:
        rows = await self._rows(
            f"SELECT {DELIVERY_COLUMNS} FROM deliveries"  # noqa: S608 - fixed column list
            " WHERE subscription_id = ? AND subject = ? AND status = 'pending' ORDER BY seq",
            (lane.subscription_id, lane.subject),
        )
        return [delivery_from(r) for r in rows]

    async def lane_head(self, lane: Lane) -> Delivery | None:
        rows = await self._rows(
            f"SELECT {DELIVERY_COLUMNS} FROM deliveries"  # noqa: S608 - fixed column list
            " WHERE subscription_id = ? AND subject = ? AND status = 'pending'"
            " ORDER BY seq LIMIT 1",
            (lane.subscription_id, lane.subject),
        )
        return delivery_from(rows[0]) if rows else None

    async def pending_lanes(self, subscription_id: str | None = None) -> list[Lane]:
        rows = await self._rows(
            "SELECT subscription_id, subject, MIN(seq) AS first FROM deliveries"
            " WHERE status = 'pending' AND (? IS NULL OR subscription_id = ?)"
            " GROUP BY subscription_id, subject ORDER BY first",
            (subscription_id, subscription_id),
        )
        return [Lane(r["subscription_id"], r["subject"]) for r in rows]

    async def record_attempt(self, attempt: Attempt, delivery: Delivery) -> None:
        await self.write_batch((), [(attempt, delivery)])

    async def update_delivery(self, delivery: Delivery) -> None:
        values = (*delivery_state(delivery), delivery.id)
        await self._db.transaction(
            lambda c: c.execute(
                "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?,"
                " last_error = ?, finished_at = ? WHERE id = ?",
                values,
            )
        )

    async def get_delivery(self, delivery_id: str) -> Delivery | None:
        rows = await self._rows(
            f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?",  # noqa: S608
            (delivery_id,),
        )
        return delivery_from(rows[0]) if rows else None

    async def list_attempts(
        self, subscription_id: str, *, limit: int = 100, event_id: str | None = None
    ) -> list[Attempt]:
        rows = await self._rows(
            "SELECT * FROM attempts WHERE subscription_id = ? AND (? IS NULL OR event_id = ?)"
            " ORDER BY rowid_ DESC LIMIT ?",
            (subscription_id, event_id, event_id, limit),
        )
        return [attempt_from(r) for r in rows]

    async def redrivable(self, subscription_id: str, *, since: datetime | None) -> list[Delivery]:
        wanted = (
            "status = 'failed'" if since is None else "status != 'pending' AND created_at >= :since"
        )
        rows = await self._rows(
            f"SELECT {DELIVERY_COLUMNS} FROM deliveries"  # noqa: S608 - fixed fragments
            f" WHERE subscription_id = :sub AND {_LATEST} AND {wanted} ORDER BY seq",
            {"sub": subscription_id, "since": ts(since)},
        )
        return [delivery_from(r) for r in rows]

    async def fail_pending(
        self, subscription_id: str, *, error: str, at: datetime
    ) -> list[Delivery]:
        def work(c: sqlite3.Connection) -> list[sqlite3.Row]:
            rows = c.execute(
                f"SELECT {DELIVERY_COLUMNS} FROM deliveries"  # noqa: S608
                " WHERE subscription_id = ? AND status = 'pending' ORDER BY seq",
                (subscription_id,),
            ).fetchall()
            c.execute(
                "UPDATE deliveries SET status = ?, last_error = ?, finished_at = ?"
                " WHERE subscription_id = ? AND status = 'pending'",
                (DeliveryStatus.FAILED.value, error, ts(at), subscription_id),
            )
            return rows

        rows = await self._db.transaction(work)
        return [
            replace(row, status=DeliveryStatus.FAILED, last_error=error, finished_at=at)
            for row in map(delivery_from, rows)
        ]

    async def delivery_stats(self) -> list[DeliveryStats]:
        def work(
            c: sqlite3.Connection,
        ) -> tuple[list[sqlite3.Row], list[sqlite3.Row], list[sqlite3.Row]]:
            counts = c.execute(
                "SELECT subscription_id, status, COUNT(*) AS n FROM deliveries"  # noqa: S608
                f" WHERE {_LATEST} GROUP BY subscription_id, status"
            ).fetchall()
            last_rows = c.execute(
                "SELECT subscription_id, started_at, outcome, status_code FROM attempts"
                " WHERE rowid_ IN (SELECT MAX(rowid_) FROM attempts GROUP BY subscription_id)"
            ).fetchall()
            subs = c.execute(
                "SELECT id, partner_id, status FROM subscriptions ORDER BY id"
            ).fetchall()
            return counts, last_rows, subs

        counts, last_rows, subs = await self._db.read(work)
        by_sub: dict[str, dict[str, int]] = {}
        for row in counts:
            by_sub.setdefault(row["subscription_id"], {})[row["status"]] = int(row["n"])
        last = {row["subscription_id"]: row for row in last_rows}
        stats = []
        for sub in subs:
            n = by_sub.get(sub["id"], {})
            attempt = last.get(sub["id"])
            stats.append(
                DeliveryStats(
                    subscription_id=sub["id"],
                    partner_id=sub["partner_id"],
                    status=sub["status"],
                    delivered=n.get(DeliveryStatus.DELIVERED.value, 0),
                    failed=n.get(DeliveryStatus.FAILED.value, 0),
                    pending=n.get(DeliveryStatus.PENDING.value, 0),
                    last_attempt_at=dt(attempt["started_at"]) if attempt else None,
                    last_outcome=AttemptOutcome(attempt["outcome"]) if attempt else None,
                    last_status_code=attempt["status_code"] if attempt else None,
                )
            )
        return stats


def _upsert_partner(c: sqlite3.Connection, partner: Partner) -> None:
    c.execute(
        "INSERT INTO partners (id, name) VALUES (?, ?)"
        " ON CONFLICT(id) DO UPDATE SET name = excluded.name",
        (partner.id, partner.name),
    )


def _write_batch(
    c: sqlite3.Connection,
    bodies: Sequence[tuple[str, bytes]],
    rows: Sequence[tuple[object, ...]],
    states: Sequence[tuple[object, ...]],
    records: Sequence[tuple[object, ...]],
) -> dict[str, int]:
    """New deliveries (their seq by id), then attempts with their delivery's new state."""
    seqs: dict[str, int] = {}
    if bodies:
        c.executemany("INSERT OR IGNORE INTO event_bodies (event_id, body) VALUES (?, ?)", bodies)
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        chunk = rows[start : start + _ROWS_PER_INSERT]
        sql = _INSERT_DELIVERIES.format(rows=", ".join([_ROW] * len(chunk)))
        params = [value for row in chunk for value in row]
        seqs.update((r["id"], r["seq"]) for r in c.execute(sql, params).fetchall())
    if states:
        c.executemany(
            "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = ?,"
            " last_error = ?, finished_at = ? WHERE id = ? AND status = 'pending'",
            states,
        )
        c.executemany(
            "INSERT INTO attempts (id, delivery_id, subscription_id, event_id, number,"
            " started_at, outcome, latency_ms, status_code, response_excerpt, error)"
            " SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
            " WHERE EXISTS (SELECT 1 FROM deliveries WHERE id = ?)",
            records,
        )
    return seqs
