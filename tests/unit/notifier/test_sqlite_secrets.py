"""Signing secrets in the SQLite file: sealed, plain-text rows migrated, keys rotated."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.notifier.secret_box import SecretBox, SecretKeyError, generate_key
from services.notifier.sqlite_rows import SCHEMA
from services.notifier.sqlite_store import SqliteStore
from services.notifier.subscriptions import Filters, Subscription

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
FILTER_KEYS = ("countries", "communities", "sdgs", "categories", "partners")


def subscription(n: int) -> Subscription:
    return Subscription.new(
        partner_id="pa",
        url=f"https://hooks.example/{n}",
        event_types=frozenset({"*"}),
        filters=Filters(),
        now=T0,
    )


def raw_bytes(db: Path) -> bytes:
    """The file and whatever SQLite keeps beside it (WAL, shared memory)."""
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def stored_column(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT secrets FROM subscriptions ORDER BY id")]


def secret_markers(s: Subscription) -> list[bytes]:
    # The secret as written, and its base64 body alone (the HMAC key's encoding).
    return [x.value.encode() for x in s.secrets] + [
        x.value.removeprefix("whsec_").encode() for x in s.secrets
    ]


async def test_new_secrets_never_reach_the_file_in_plain_text(tmp_path: Path) -> None:
    db = tmp_path / "n.db"
    box = SecretBox.from_settings([generate_key()])
    store = await SqliteStore.open(db, secret_box=box)
    subs = [subscription(n) for n in range(3)]
    for s in subs:
        await store.insert_subscription(s)
    rotated = subs[0].rotated(now=T0, overlap=timedelta(hours=1))
    await store.save_subscription(rotated)
    listed = await store.list_subscriptions("pa")
    assert {s.id: s.secrets for s in listed}[rotated.id] == rotated.secrets
    await store.close()
    data = raw_bytes(db)
    for s in [rotated, *subs]:
        for marker in secret_markers(s):
            assert marker not in data
    assert all(v.startswith(f"aesgcm:{box.sealing_key_id}:") for v in stored_column(db))
    reopened = await SqliteStore.open(db, secret_box=box)
    assert reopened.resealed == 0
    got = await reopened.get_subscription(rotated.id)
    assert got is not None
    assert got.secrets == rotated.secrets
    await reopened.close()


async def test_plain_text_rows_are_sealed_at_open_and_leave_no_copy(tmp_path: Path) -> None:
    db = tmp_path / "n.db"
    subs = [subscription(n) for n in range(40)]
    # Rows as the notifier wrote them before encryption: the secrets column is JSON.
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(SCHEMA)
        conn.executemany(
            "INSERT INTO subscriptions (id, partner_id, url, event_types, filters, secrets,"
            " status, description, created_at, updated_at)"
            " VALUES (?, 'pa', ?, '[\"*\"]', ?, ?, 'active', '', ?, ?)",
            [
                (
                    s.id,
                    s.url,
                    json.dumps({k: [] for k in FILTER_KEYS}),
                    json.dumps([{"value": s.current_secret, "expires_at": None}]),
                    T0.isoformat(),
                    T0.isoformat(),
                )
                for s in subs
            ],
        )
    assert subs[0].current_secret.encode() in raw_bytes(db)
    box = SecretBox.from_settings([generate_key()])
    store = await SqliteStore.open(db, secret_box=box)
    assert store.resealed == len(subs)
    for s in subs:
        got = await store.get_subscription(s.id)
        assert got is not None
        assert got.current_secret == s.current_secret
    await store.close()
    data = raw_bytes(db)
    for s in subs:
        for marker in secret_markers(s):
            assert marker not in data
    assert all(v.startswith("aesgcm:") for v in stored_column(db))


async def test_rotation_reseals_under_the_first_key_and_an_unknown_key_fails_open(
    tmp_path: Path,
) -> None:
    db = tmp_path / "n.db"
    old, new = generate_key(), generate_key()
    store = await SqliteStore.open(db, secret_box=SecretBox.from_settings([old]))
    s = subscription(1)
    await store.insert_subscription(s)
    await store.close()

    both = SecretBox.from_settings([new, old])
    store = await SqliteStore.open(db, secret_box=both)
    assert store.resealed == 1
    await store.close()
    assert stored_column(db)[0].startswith(f"aesgcm:{both.sealing_key_id}:")

    store = await SqliteStore.open(db, secret_box=SecretBox.from_settings([new]))
    got = await store.get_subscription(s.id)
    assert got is not None
    assert got.secrets == s.secrets
    await store.close()

    stranger = SecretBox.from_settings([old])
    with pytest.raises(SecretKeyError, match=f"{s.id}'s signing secrets are sealed with key"):
        await SqliteStore.open(db, secret_box=stranger)


async def test_without_a_box_the_key_file_beside_the_store_is_used(tmp_path: Path) -> None:
    db = tmp_path / "n.db"
    store = await SqliteStore.open(db)
    s = subscription(1)
    await store.insert_subscription(s)
    await store.close()
    assert (tmp_path / "notifier-secret.key").exists()
    again = await SqliteStore.open(db)
    got = await again.get_subscription(s.id)
    assert got is not None
    assert got.current_secret == s.current_secret
    await again.close()
