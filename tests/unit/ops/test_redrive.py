"""Redrive decisions: each dead letter to its own group's retry topic, once per record and
group, webhooks left to the notifier, and never to a topic that does not exist."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.ops.dead_letters import DeadLetter
from services.ops.redrive import RedriveTargetMissing, redrive
from shared import (
    InvalidEvent,
    MemoryTransport,
    dead_letter_headers,
    dead_letter_topic,
    retry_topic,
)

ORIGINAL = [("ce_id", b"ev-1"), ("ce_type", b"org.wipo.tabridge.x.v1"), ("traceparent", b"00-ab")]


def _letter(offset: int, *, group: str, original_offset: int, retry: bool = True) -> DeadLetter:
    headers = dead_letter_headers(
        ORIGINAL,
        error=InvalidEvent("bad"),
        topic="acts",
        partition=1,
        offset=original_offset,
        group=group,
        attempts=1,
        now=datetime(2026, 12, 1, tzinfo=UTC),
        retry_topic=retry_topic(group) if retry else None,
    )
    return DeadLetter("acts.dlq", 0, offset, 0, b"TA-1", b"{}", tuple(headers))


def redrive_headers(original_offset: int) -> list[tuple[str, bytes]]:
    return [
        ("redrive.original.topic", b"acts"),
        ("redrive.original.partition", b"1"),
        ("redrive.original.offset", str(original_offset).encode()),
    ]


async def test_each_dead_letter_goes_to_its_groups_retry_topic_once() -> None:
    transport = MemoryTransport()
    transport.broker.create_topic("acts", 2)
    for group in ("feed", "tagger", "notifier"):
        transport.broker.create_topic(retry_topic(group), 1)
    webhook = DeadLetter(
        "hooks.dlq",
        0,
        9,
        0,
        b"TA-1",
        b"{}",
        (("dlq.webhook.id", b"w"), ("dlq.subscription.id", b"s")),
    )
    letters = [
        _letter(0, group="feed", original_offset=5),
        _letter(1, group="tagger", original_offset=5),
        _letter(2, group="feed", original_offset=5),  # feed gave up on it twice
        _letter(3, group="feed", original_offset=6),
        webhook,
        _letter(4, group="replay-1", original_offset=5, retry=False),
    ]
    producer = transport.producer(client_id="t")
    await producer.start()

    dry = await redrive(letters, producer, cluster=transport, dry_run=True)
    assert transport.broker.records(retry_topic("feed")) == []
    report = await redrive(letters, producer, cluster=transport)

    for result in (dry, report):
        assert [(d.offset, target) for d, target in result.redriven] == [
            (0, "tabridge.retry.feed"),
            (1, "tabridge.retry.tagger"),
            (3, "tabridge.retry.feed"),
        ]
        assert [(d.offset, first.offset) for d, first in result.merged] == [(2, 0)]
        [(skipped, reason), (oneoff, why)] = result.skipped
        assert skipped is webhook
        assert "ta-bridge webhooks redrive s" in reason
        assert oneoff.offset == 4
        assert "group replay-1 reads no retry topic" in why
        assert "would reach every group" in why
    assert transport.broker.records("acts") == [], "the original topic is not written"
    assert transport.broker.records(retry_topic("notifier")) == []
    feed = transport.broker.records(retry_topic("feed"))
    assert [list(r.headers) for r in feed] == [
        ORIGINAL + redrive_headers(5),
        ORIGINAL + redrive_headers(6),
    ]
    assert all((r.key, r.value) == (b"TA-1", b"{}") for r in feed)
    [tagger] = transport.broker.records(retry_topic("tagger"))
    assert list(tagger.headers) == ORIGINAL + redrive_headers(5)
    assert report.as_json()["merged"] == [{"from": "acts.dlq[0]@2", "same_as": "acts.dlq[0]@0"}]
    assert report.as_json()["redriven"][1]["group"] == "tagger"


async def test_a_missing_retry_topic_refuses_the_whole_redrive_and_is_not_created() -> None:
    transport = MemoryTransport()
    transport.broker.create_topic(retry_topic("feed"), 1)
    letters = [
        _letter(0, group="feed", original_offset=5),
        _letter(1, group="gone", original_offset=5),
    ]
    producer = transport.producer(client_id="t")
    await producer.start()
    for dry_run in (True, False):
        with pytest.raises(RedriveTargetMissing, match=r"tabridge\.retry\.gone do not exist"):
            await redrive(letters, producer, cluster=transport, dry_run=dry_run)
    assert transport.broker.records(retry_topic("feed")) == []
    assert not transport.broker.has_topic(retry_topic("gone"))


def test_a_redriven_record_that_fails_again_names_its_first_place() -> None:
    headers = dead_letter_headers(
        [*ORIGINAL, *redrive_headers(5)],
        error=InvalidEvent("still bad"),
        topic=retry_topic("feed"),
        partition=0,
        offset=0,
        group="feed",
        attempts=1,
        retry_topic=retry_topic("feed"),
    )
    named = dict(headers)
    assert named["dlq.retry.topic"] == b"tabridge.retry.feed"
    assert (named["dlq.original.topic"], named["dlq.original.offset"]) == (b"acts", b"5")
    assert named["dlq.original.partition"] == b"1"
    assert dead_letter_topic(retry_topic("feed"), [*ORIGINAL, *redrive_headers(5)]) == "acts.dlq"
    assert dead_letter_topic("acts", ORIGINAL) == "acts.dlq"
