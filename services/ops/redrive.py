"""Re-publishing dead letters to the consumer group that gave up on them: `ta-bridge dlq
redrive`.

Several groups read one topic and share its `<topic>.dlq`; each dead letter names the group
that wrote it (`dlq.consumer.group`). Writing it back to the original topic would hand it
to every group again, groups that handled it the first time included. So each dead letter
goes to its group's own retry topic (`tabridge.retry.<group>` in the namespace, named in the
dead letter's `dlq.retry.topic` by the runner that wrote it), which that group's runner
reads alongside its topics and no other group reads: only the failing group
processes the record again (the per-group retry topics of Spring Kafka's non-blocking
retries and Uber's reprocessing queues, without their delay tiers: a redrive is an
operator's decision, made once the cause is fixed).

The record written is the same event: key, value and original headers (the `dlq.*` ones
dropped), so the same CloudEvents id, type, subject and `traceparent`, plus
`redrive.original.*` headers naming where it first was. Should it fail again, its new dead
letter goes to the original topic's DLQ and names the original place, so redriving it
again works the same way. A record the same group dead-lettered twice (say, a first redrive
that failed again) is written once (`merged`). The dead letters stay in the DLQ (Kafka
topics are append-only), which is why `--since` picks the ones to redrive.

A redrive never creates a topic: every target is looked up first without auto-creating it
(a broker with `auto.create.topics.enable=true` would create a missing one with its
defaults when a producer names it), and if one is missing the redrive writes nothing and
raises `RedriveTargetMissing` naming it (the topics tool or the service's start-up creates
retry topics). The producer is idempotent with `acks=all`; the report is returned only once
every record was acknowledged. A redriven event lands after newer events of its activity.

Records without an original topic or group (the notifier's webhook DLQ, whose deliveries are
redriven by the notifier: `ta-bridge webhooks redrive`) are skipped with the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from services.ops.dead_letters import DeadLetter
from shared import DLQ_SUFFIX, ClusterOps, NotFound, ProducerClient, redriven_headers

__all__ = ["RedriveReport", "RedriveTargetMissing", "redrive"]


class RedriveTargetMissing(NotFound):
    """A retry topic a redrive would write to does not exist; nothing was written."""

    code = "redrive_target_missing"


@dataclass
class RedriveReport:
    """What was (or, in a dry run, would be) re-published, merged, or left alone.

    `redriven`: each dead letter with the retry topic it went to.
    `merged`: dead letters of a record the same group dead-lettered more than once; it is
    re-published once. `skipped`: dead letters that cannot be redriven, with the reason.
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
                    "group": d.header("dlq.consumer.group"),
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
    """The retry topic of the letter's group, or None and why it cannot be redriven."""
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
    target = letter.header("dlq.retry.topic")
    if not target:
        group = letter.header("dlq.consumer.group") or "?"
        return None, (
            f"no dlq.retry.topic header: group {group} reads no retry topic (a one-off group, "
            "or a dead letter written before per-group redrive), and writing it back to "
            f"{original} would reach every group"
        )
    return target, ""


def _original_place(letter: DeadLetter) -> tuple[str, int, int] | None:
    topic = letter.original_topic
    partition = letter.header("dlq.original.partition")
    offset = letter.header("dlq.original.offset")
    if topic is None or partition is None or offset is None:
        return None
    try:
        return topic, int(partition), int(offset)
    except ValueError:
        return None


def _record_key(letter: DeadLetter, target: str) -> tuple[str, ...]:
    """Which original record, for which group, a dead letter is a copy of."""
    place = _original_place(letter)
    if place is None:
        return (target, "event", letter.event_id or f"{letter.partition}@{letter.offset}")
    return (target, place[0], str(place[1]), str(place[2]))


async def redrive(
    letters: Sequence[DeadLetter],
    producer: ProducerClient,
    *,
    cluster: ClusterOps,
    dry_run: bool = False,
) -> RedriveReport:
    """Write `letters` to their groups' retry topics on a started `producer` (see the
    module docstring); with `dry_run`, only say what would be written. `cluster` looks the
    targets up.

    Raises:
        RedriveTargetMissing: a target topic does not exist (nothing was written, dry run
            or not).
        the first delivery error; letters before it may have been written (redriving
            again is safe, see the module docstring).
    """
    report = RedriveReport()
    first_of: dict[tuple[str, ...], DeadLetter] = {}
    for letter in letters:
        target, reason = _target(letter)
        if target is None:
            report.skipped.append((letter, reason))
            continue
        record = _record_key(letter, target)
        if record in first_of:
            report.merged.append((letter, first_of[record]))
            continue
        first_of[record] = letter
        report.redriven.append((letter, target))
    targets = sorted({t for _, t in report.redriven})
    existing = await cluster.partitions_of(targets) if targets else {}
    missing = [t for t in targets if t not in existing]
    if missing:
        raise RedriveTargetMissing(
            f"retry topic(s) {', '.join(missing)} do not exist, so nothing was redriven (a "
            "redrive never creates a topic): start the group's service, or create them with "
            "`python -m tools.topics apply --group <group>`"
        )
    if dry_run:
        return report
    futures = []
    for letter, target in report.redriven:
        place = _original_place(letter)
        headers = letter.original_headers()
        if place is not None:
            headers = redriven_headers(headers, topic=place[0], partition=place[1], offset=place[2])
        futures.append(
            await producer.send(target, value=letter.value, key=letter.key, headers=headers)
        )
    if futures:
        await asyncio.gather(*futures)
    return report
