"""Re-publishing dead letters to the topics they came from: `ta-bridge dlq redrive`.

Each dead letter named by `dlq.original.topic` is written back there with its key, its
value and its original headers (the `dlq.*` ones dropped), so it is the same event: the
same CloudEvents id, type, subject and `traceparent`. A record that several consumer
groups dead-lettered (they share `<topic>.dlq`) is written back once, for all of them.
The event reaches every group that reads the topic, including groups that handled it the
first time: handlers must be idempotent per event id (DESIGN.md: consumers deduplicate on
it), and `ta-bridge dlq list` shows which groups gave up on it. The dead letters stay in
the DLQ (Kafka topics are append-only), which is why `--since` picks the ones to redrive.

The producer is idempotent with `acks=all`; the report is returned only once every record
was acknowledged. A redriven event lands after newer events of its activity.

Records without an original topic (the notifier's webhook DLQ, whose deliveries are
redriven by the notifier: `ta-bridge webhooks redrive`) are skipped with the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from services.ops.dead_letters import DeadLetter
from shared import DLQ_SUFFIX, ProducerClient

__all__ = ["RedriveReport", "redrive"]


@dataclass
class RedriveReport:
    """What was (or, in a dry run, would be) re-published, merged, or left alone.

    `merged`: dead letters of a record already redriven in this run (several consumer
    groups dead-letter the same record to one DLQ; it is re-published once, for all).
    `skipped`: dead letters that cannot be redriven from here, with the reason.
    """

    redriven: list[tuple[DeadLetter, str]] = field(default_factory=list)
    merged: list[tuple[DeadLetter, DeadLetter]] = field(default_factory=list)
    skipped: list[tuple[DeadLetter, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "redriven": [
                {
                    "from": f"{d.topic}[{d.partition}]@{d.offset}",
                    "to": target,
                    "event_id": d.event_id,
                }
                for d, target in self.redriven
            ],
            "merged": [
                {
                    "from": f"{d.topic}[{d.partition}]@{d.offset}",
                    "same_as": f"{first.topic}[{first.partition}]@{first.offset}",
                }
                for d, first in self.merged
            ],
            "skipped": [
                {"from": f"{d.topic}[{d.partition}]@{d.offset}", "reason": reason}
                for d, reason in self.skipped
            ],
        }


def _target(letter: DeadLetter) -> tuple[str | None, str]:
    original = letter.original_topic
    if not original:
        if letter.header("dlq.webhook.id"):
            return None, (
                "a webhook delivery: redrive it with `ta-bridge webhooks redrive "
                f"{letter.header('dlq.subscription.id') or '<subscription>'}`"
            )
        return None, "no dlq.original.topic header"
    if original.endswith(DLQ_SUFFIX):
        return None, f"its original topic {original!r} is itself a DLQ"
    return original, ""


def _original_record(letter: DeadLetter, target: str) -> tuple[str, ...]:
    """Which original record a dead letter is a copy of (its event id when unnamed)."""
    partition = letter.header("dlq.original.partition")
    offset = letter.header("dlq.original.offset")
    if partition is None or offset is None:
        return (target, "event", letter.event_id or f"{letter.partition}@{letter.offset}")
    return (target, partition, offset)


async def redrive(
    letters: Sequence[DeadLetter], producer: ProducerClient, *, dry_run: bool = False
) -> RedriveReport:
    """Write `letters` back to their original topics on a started `producer` (see the
    module docstring); with `dry_run`, only say what would be written.

    Raises:
        the first delivery error; letters before it may have been written (redriving
        again is safe, see the module docstring).
    """
    report = RedriveReport()
    futures = []
    first_of: dict[tuple[str, ...], DeadLetter] = {}
    for letter in letters:
        target, reason = _target(letter)
        if target is None:
            report.skipped.append((letter, reason))
            continue
        record = _original_record(letter, target)
        if record in first_of:
            report.merged.append((letter, first_of[record]))
            continue
        first_of[record] = letter
        report.redriven.append((letter, target))
        if not dry_run:
            futures.append(
                await producer.send(
                    target,
                    value=letter.value,
                    key=letter.key,
                    headers=letter.original_headers(),
                )
            )
    if futures:
        await asyncio.gather(*futures)
    return report
