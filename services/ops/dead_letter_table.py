"""`ta-bridge dlq list` as text: a head line naming the topic and the count, then one row
per dead letter: when it was written, partition@offset, key, event id and type, where it
came from (`topic[partition]@offset`), the consumer group (or webhook subscription) that
gave up, and the error type and message."""

from __future__ import annotations

from collections.abc import Sequence

from services.ops.columns import columns
from services.ops.dead_letters import DeadLetter

__all__ = ["render_dead_letters"]


def render_dead_letters(topic: str, letters: Sequence[DeadLetter]) -> str:
    """`ta-bridge dlq list` as text: a head line, then one row per dead letter."""
    rows = [
        [
            d.written_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            f"{d.partition}@{d.offset}",
            d.key.decode("utf-8", "replace") if d.key is not None else "-",
            d.event_id or "-",
            d.header("ce_type") or d.header("dlq.webhook.type") or "-",
            _origin(d),
            d.header("dlq.consumer.group") or d.header("dlq.subscription.id") or "-",
            f"{d.header('dlq.error.type') or '?'}: {d.header('dlq.error.message') or ''}",
        ]
        for d in letters
    ]
    head = f"{topic}: {len(letters)} dead letter(s)"
    header = ["WRITTEN", "AT", "KEY", "EVENT ID", "TYPE", "FROM", "GROUP", "ERROR"]
    return "\n".join([head, *columns(rows, header=header)]) if rows else head


def _origin(letter: DeadLetter) -> str:
    topic = letter.original_topic
    if not topic:
        return "-"
    partition = letter.header("dlq.original.partition") or "?"
    return f"{topic}[{partition}]@{letter.header('dlq.original.offset') or '?'}"
