"""Noticing that the broker lost records it had acknowledged, and recovering positions.

When a cluster is rebuilt on fresh storage (or an unclean leader election truncates a
log), a group's committed offset can lie beyond the partition's new end. Left alone, the
consumer would wait at that offset and skip every record that arrives below it. The
policy: a committed offset past the end means the log was replaced, so the consumer
rewinds that partition to the log start (every record of the new log is read; the
consumers de-duplicate on event id), commits that start at once, and says so loudly (a
warning per partition here, `beyond_end` and a warning in `/v1/status`).

The check must finish before a newly assigned partition's first record is handled: the
client starts fetching as soon as it is assigned, and once the runner commits, the stale
offset is gone. `LogLossGuard` runs it in the background per assignment and holds back a
partition's first batch until it is done, dropping what was fetched from a stale position.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from typing import TypeVar

from structlog.typing import FilteringBoundLogger

from shared._transport import ConsumerClient, TopicPartition, Transport

__all__ = ["LogLossGuard", "rewind_beyond_end"]

R = TypeVar("R")


async def rewind_beyond_end(
    consumer: ConsumerClient,
    transport: Transport,
    partitions: Collection[TopicPartition],
    log: FilteringBoundLogger,
    *,
    within: float = 10.0,
) -> list[TopicPartition]:
    """Seek every partition whose committed offset is past its log end to the log start.

    Returns the partitions rewound. Never raises for the broker: when the offsets cannot
    be read within `within` seconds, nothing is rewound here (the commit guard,
    `LogLossGuard.before_commit`, still refuses a position past the end).
    """
    if not partitions:
        return []
    try:
        # Bounded: against a cluster that lost the topic these calls retry forever, and the
        # partition's first batch (so the runner's stop) waits for this check.
        async with asyncio.timeout(within):
            ends = await transport.end_offsets(sorted({tp.topic for tp in partitions}))
            committed = {tp: await consumer.committed(tp) for tp in partitions}
    except Exception as exc:
        log.warning("could not compare committed offsets with the log end", error=str(exc))
        return []
    rewound = []
    for tp in sorted(partitions):
        done, end = committed.get(tp), ends.get(tp)
        if done is None or end is None or done <= end:
            continue
        log.warning(
            "committed offset is beyond the log end: the broker lost records it had "
            "acknowledged (cluster replaced?); rewinding to the log start",
            topic=tp.topic,
            partition=tp.partition,
            committed=done,
            end=end,
        )
        consumer.seek(tp, 0)
        rewound.append(tp)
    if rewound:
        # Committed at once, so the status stops reporting the loss even for a partition
        # the new log has nothing on yet, and a restart does not find the stale offset.
        try:
            await consumer.commit(dict.fromkeys(rewound, 0))
        except Exception as exc:
            log.warning("could not commit the rewound offsets", error=str(exc))
    return rewound


class LogLossGuard:
    """Runs `rewind_beyond_end` for each assignment; `admit` waits for it per partition."""

    def __init__(self, transport: Transport, log: FilteringBoundLogger) -> None:
        self._transport = transport
        self._log = log
        self._checks: dict[TopicPartition, asyncio.Task[list[TopicPartition]]] = {}
        self._consumer: ConsumerClient | None = None
        self._generation = 0

    def assigned(self, consumer: ConsumerClient, partitions: Collection[TopicPartition]) -> None:
        """Start checking `partitions` (returns at once; the client keeps fetching)."""
        self._generation += 1
        if not partitions:
            return
        self._consumer = consumer
        check = asyncio.create_task(
            rewind_beyond_end(consumer, self._transport, partitions, self._log),
            name="log-loss-check",
        )
        for tp in partitions:
            self._checks[tp] = check

    async def admit(self, batch: Mapping[TopicPartition, R]) -> dict[TopicPartition, R]:
        """`batch` without the partitions that were rewound: whenever the check finished,
        before or after this fetch, those records are dropped and the partition is sought
        to the log start again, so it is read from there exactly once."""
        checks = {self._checks.pop(tp) for tp in list(batch) if tp in self._checks}
        generation = self._generation
        rewound: set[TopicPartition] = set()
        for check in checks:
            rewound.update(await check)
        if self._generation != generation:
            # Reassigned while waiting: every position was reset to its committed offset,
            # so these records are fetched again by their (new) owner.
            return {}
        rewound &= set(batch)
        if rewound and self._consumer is not None:
            for tp in rewound:
                self._consumer.seek(tp, 0)
        return {tp: records for tp, records in batch.items() if tp not in rewound}

    def before_commit(
        self, consumer: ConsumerClient, offsets: dict[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        """`offsets` to commit, with any offset past its partition's known end replaced by
        0 (and the partition sought there): a position the broker no longer has, as when
        the cluster was replaced under a running consumer, is never committed."""
        kept = dict(offsets)
        for tp, offset in offsets.items():
            end = consumer.highwater(tp)
            if end is None or offset <= end:
                continue
            self._log.warning(
                "position is beyond the log end: the broker lost records it had "
                "acknowledged (cluster replaced?); rewinding to the log start",
                topic=tp.topic,
                partition=tp.partition,
                position=offset,
                end=end,
            )
            consumer.seek(tp, 0)
            kept[tp] = 0
        return kept

    async def close(self) -> None:
        checks = set(self._checks.values())
        self._checks.clear()
        for check in checks:
            check.cancel()
        await asyncio.gather(*checks, return_exceptions=True)
