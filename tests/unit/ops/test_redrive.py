"""Redrive decisions: one re-publication per original record, webhooks left to the notifier."""

from __future__ import annotations

from datetime import UTC, datetime

from services.ops.dead_letters import DeadLetter
from services.ops.redrive import redrive
from shared import InvalidEvent, MemoryTransport, dead_letter_headers

ORIGINAL = [("ce_id", b"ev-1"), ("ce_type", b"org.wipo.tabridge.x.v1"), ("traceparent", b"00-ab")]


def _letter(offset: int, *, group: str, original_offset: int) -> DeadLetter:
    headers = dead_letter_headers(
        ORIGINAL,
        error=InvalidEvent("bad"),
        topic="acts",
        partition=1,
        offset=original_offset,
        group=group,
        attempts=1,
        now=datetime(2026, 12, 1, tzinfo=UTC),
    )
    return DeadLetter("acts.dlq", 0, offset, 0, b"TA-1", b"{}", tuple(headers))


async def test_each_original_record_is_republished_once_with_its_original_headers() -> None:
    transport = MemoryTransport()
    transport.broker.create_topic("acts", 2)
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
        _letter(2, group="notifier", original_offset=5),
        _letter(3, group="feed", original_offset=6),
        webhook,
    ]
    producer = transport.producer(client_id="t")
    await producer.start()

    dry = await redrive(letters, producer, dry_run=True)
    assert transport.broker.records("acts") == []
    report = await redrive(letters, producer)

    for result in (dry, report):
        assert [(d.offset, target) for d, target in result.redriven] == [(0, "acts"), (3, "acts")]
        assert [(d.offset, first.offset) for d, first in result.merged] == [(1, 0), (2, 0)]
        [(skipped, reason)] = result.skipped
        assert skipped is webhook
        assert "ta-bridge webhooks redrive s" in reason
    records = transport.broker.records("acts")
    assert len(records) == 2
    assert all(list(r.headers) == ORIGINAL for r in records)
    assert all((r.key, r.value) == (b"TA-1", b"{}") for r in records)
    assert report.as_json()["merged"] == [
        {"from": "acts.dlq[0]@1", "same_as": "acts.dlq[0]@0"},
        {"from": "acts.dlq[0]@2", "same_as": "acts.dlq[0]@0"},
    ]
