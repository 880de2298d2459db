"""What the relay put on the activity topics, read back and checked as a consumer sees it.

A consumer de-duplicates on the CloudEvents `id`; so "published exactly once" means: the
distinct ids are exactly the committed changes, one id per (activity, version), and each
activity's versions arrive in order on one partition.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Collection
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import orjson

from shared import RebalanceCallbacks, TopicPartition, Transport
from shared.db import Database
from tests.support.topics import header
from tests.support.waiting import eventually

Change = tuple[str, int]  # (activity id, version)


@dataclass(frozen=True, slots=True)
class Seen:
    event_id: str
    activity_id: str
    version: int
    key: str
    partition: int
    offset: int


async def read_until(
    transport: Transport,
    topic: str,
    done: Callable[[list[Seen]], bool],
    *,
    timeout: float = 60,
    what: str = "events",
) -> list[Seen]:
    """Every record of `topic` from the start, read until `done(records)` holds."""
    consumer = transport.consumer(
        group_id=f"reader-{uuid.uuid4().hex[:8]}", client_id="test-reader", max_poll_records=1000
    )

    async def nothing(_: Collection[TopicPartition]) -> None:
        return None

    consumer.subscribe_with([topic], RebalanceCallbacks(nothing, nothing))
    await consumer.start()
    seen: list[Seen] = []
    try:

        async def more() -> bool:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for r in records:
                    body = orjson.loads(r.value)
                    seen.append(
                        Seen(
                            event_id=header(r, "ce_id") or "",
                            activity_id=body["activity_id"],
                            version=int(body["version"]),
                            key=r.key.decode(),
                            partition=r.partition,
                            offset=r.offset,
                        )
                    )
            return done(seen)

        await eventually(more, timeout=timeout, interval=0.01, message=f"{what} on {topic}")
    finally:
        await consumer.stop()
    return seen


def distinct(seen: list[Seen]) -> list[Seen]:
    """First delivery of each id, in partition/offset order: what a de-duplicating consumer
    acts on."""
    firsts: dict[str, Seen] = {}
    for s in sorted(seen, key=lambda s: (s.partition, s.offset)):
        firsts.setdefault(s.event_id, s)
    return list(firsts.values())


def covers(changes: Collection[Change]) -> Callable[[list[Seen]], bool]:
    wanted = set(changes)
    return lambda seen: wanted <= {(s.activity_id, s.version) for s in seen}


def assert_exactly_once(seen: list[Seen], committed: Collection[Change]) -> None:
    """The de-duplicated stream is the committed changes: none lost, none twice, in order."""
    effects = distinct(seen)
    changes = [(s.activity_id, s.version) for s in effects]
    assert len(changes) == len(set(changes)), "two ids for one change: a duplicate effect"
    assert set(changes) == set(committed), "lost or uncommitted changes"
    assert len(effects) == len(committed)
    for event_id in {s.event_id for s in seen}:
        copies = {(s.activity_id, s.version) for s in seen if s.event_id == event_id}
        assert len(copies) == 1, f"{event_id} names two changes: {copies}"
    by_activity: dict[str, list[Seen]] = {}
    for s in effects:
        assert s.key == s.activity_id, "keyed by activity id"
        by_activity.setdefault(s.activity_id, []).append(s)
    for activity_id, items in by_activity.items():
        assert len({s.partition for s in items}) == 1, f"{activity_id} spans partitions"
        versions = [s.version for s in items]
        assert versions == list(range(1, len(versions) + 1)), f"{activity_id}: {versions}"


async def stored(db: Database) -> tuple[set[Change], set[str], int]:
    """(every version the store holds, every outbox event id, outbox rows marked published)."""
    async with db.read() as conn:
        versions = await conn.fetch("SELECT activity_id, version FROM activity_versions")
        outbox = await conn.fetch("SELECT event_id, published_at FROM outbox")
    changes = {(str(r[0]), int(r[1])) for r in versions}
    return changes, {str(r[0]) for r in outbox}, sum(1 for r in outbox if r[1] is not None)


def committed_changes(db_path: Path) -> set[Change]:
    """Every version the system of record holds (read from its SQLite file)."""
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT activity_id, version FROM activity_versions").fetchall()
    return {(str(a), int(v)) for a, v in rows}


def outbox_state(db_path: Path) -> tuple[int, int, set[str]]:
    """(rows, rows marked published, every event id) of the outbox."""
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        total, published = conn.execute(
            "SELECT count(*), count(published_at) FROM outbox"
        ).fetchone()
        ids = {str(r[0]) for r in conn.execute("SELECT event_id FROM outbox")}
    return int(total), int(published), ids
