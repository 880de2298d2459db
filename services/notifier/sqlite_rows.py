"""Schema and row mapping of the SQLite store."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from .deliveries import Attempt, AttemptOutcome, Delivery, DeliveryStatus
from .secret_box import SecretBox, is_sealed
from .subscriptions import Filters, SigningSecret, Subscription, SubscriptionStatus

SCHEMA = """
CREATE TABLE IF NOT EXISTS partners (id TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS partner_keys (
    key_hash TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners(id)
);
CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL,
    url TEXT NOT NULL,
    event_types TEXT NOT NULL,
    filters TEXT NOT NULL,
    secrets TEXT NOT NULL,
    status TEXT NOT NULL,
    description TEXT NOT NULL,
    disabled_reason TEXT,
    failing_since TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS subscriptions_partner ON subscriptions(partner_id, id);
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    subscription_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    subject TEXT NOT NULL,
    body BLOB NOT NULL,
    traceparent TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    generation INTEGER NOT NULL,
    last_error TEXT,
    finished_at TEXT,
    UNIQUE (subscription_id, event_id, generation)
);
CREATE INDEX IF NOT EXISTS deliveries_lane ON deliveries(subscription_id, subject, status, seq);
-- An event's body, once for all its subscriptions' deliveries (whose own body column is
-- then empty; rows written before this table keep their body there).
CREATE TABLE IF NOT EXISTS event_bodies (event_id TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries(status, seq);
CREATE TABLE IF NOT EXISTS attempts (
    rowid_ INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    delivery_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    latency_ms INTEGER NOT NULL,
    status_code INTEGER,
    response_excerpt TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS attempts_subscription ON attempts(subscription_id, rowid_);
"""

#: Selected ``FROM deliveries``: the body is the row's own, else its event's.
DELIVERY_COLUMNS = (
    "seq, id, subscription_id, event_id, event_type, subject,"
    " COALESCE(NULLIF(deliveries.body, X''), (SELECT b.body FROM event_bodies AS b"
    " WHERE b.event_id = deliveries.event_id), X'') AS body, traceparent, status,"
    " attempts, next_attempt_at, created_at, generation, last_error, finished_at"
)


def ts(value: datetime | None) -> str | None:
    """Fixed-width ISO 8601 in UTC, so text order is time order."""
    return None if value is None else value.astimezone(UTC).isoformat(timespec="microseconds")


def dt(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def opt_dt(value: Any) -> datetime | None:
    return None if value is None else dt(value)


def sealed_secrets(s: Subscription, box: SecretBox) -> str:
    """The ``secrets`` column of ``s``: its secrets as JSON, sealed by ``box``."""
    plain = [{"value": x.value, "expires_at": ts(x.expires_at)} for x in s.secrets]
    return box.seal(json.dumps(plain), subscription_id=s.id)


def opened_secrets(row: sqlite3.Row, box: SecretBox) -> str:
    """The JSON of a row's secrets; rows written before encryption hold it in plain text."""
    stored = str(row["secrets"])
    return box.open(stored, subscription_id=row["id"]) if is_sealed(stored) else stored


def subscription_values(s: Subscription, box: SecretBox) -> tuple[Any, ...]:
    filters = {
        "countries": sorted(s.filters.countries),
        "communities": sorted(s.filters.communities),
        "sdgs": sorted(s.filters.sdgs),
        "categories": sorted(s.filters.categories),
        "partners": sorted(s.filters.partners),
    }
    return (
        s.partner_id,
        s.url,
        json.dumps(sorted(s.event_types)),
        json.dumps(filters),
        sealed_secrets(s, box),
        s.status.value,
        s.description,
        s.disabled_reason,
        ts(s.created_at),
        ts(s.updated_at),
        s.id,
    )


def subscription_from(row: sqlite3.Row, box: SecretBox) -> Subscription:
    f = json.loads(row["filters"])
    return Subscription(
        id=row["id"],
        partner_id=row["partner_id"],
        url=row["url"],
        event_types=frozenset(json.loads(row["event_types"])),
        filters=Filters(
            countries=frozenset(f["countries"]),
            communities=frozenset(f["communities"]),
            sdgs=frozenset(f["sdgs"]),
            categories=frozenset(f["categories"]),
            partners=frozenset(f["partners"]),
        ),
        secrets=tuple(
            SigningSecret(x["value"], opt_dt(x["expires_at"]))
            for x in json.loads(opened_secrets(row, box))
        ),
        status=SubscriptionStatus(row["status"]),
        created_at=dt(row["created_at"]),
        updated_at=dt(row["updated_at"]),
        description=row["description"],
        disabled_reason=row["disabled_reason"],
        failing_since=opt_dt(row["failing_since"]),
    )


def delivery_state(d: Delivery) -> tuple[Any, ...]:
    return (d.status.value, d.attempts, ts(d.next_attempt_at), d.last_error, ts(d.finished_at))


def delivery_from(row: sqlite3.Row) -> Delivery:
    return Delivery(
        seq=row["seq"],
        id=row["id"],
        subscription_id=row["subscription_id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        subject=row["subject"],
        body=bytes(row["body"]),
        traceparent=row["traceparent"],
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=dt(row["next_attempt_at"]),
        created_at=dt(row["created_at"]),
        generation=row["generation"],
        last_error=row["last_error"],
        finished_at=opt_dt(row["finished_at"]),
    )


def attempt_values(a: Attempt) -> tuple[Any, ...]:
    return (
        a.id,
        a.delivery_id,
        a.subscription_id,
        a.event_id,
        a.number,
        ts(a.started_at),
        a.outcome.value,
        a.latency_ms,
        a.status_code,
        a.response_excerpt,
        a.error,
    )


def attempt_from(row: sqlite3.Row) -> Attempt:
    return Attempt(
        id=row["id"],
        delivery_id=row["delivery_id"],
        subscription_id=row["subscription_id"],
        event_id=row["event_id"],
        number=row["number"],
        started_at=dt(row["started_at"]),
        outcome=AttemptOutcome(row["outcome"]),
        latency_ms=row["latency_ms"],
        status_code=row["status_code"],
        response_excerpt=row["response_excerpt"],
        error=row["error"],
    )
