"""Moving a stopped consumer group's offsets back (or forward) to a moment: `ta-bridge replay`.

For every partition of the topic, the new offset is the first record written at or after
the moment (`offsets_for_times`), or the partition's end when there is none. The group
must have no active member: a running consumer would overwrite the offsets with its own
commits, so the reset refuses (stop the service, reset, start it again).

The commit is made by a consumer that assigns the partitions itself and never joins the
group; offsets of other topics of the group are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CommitFailedError

from services.ops.moments import epoch_ms
from shared import Conflict, KafkaOffsetReader, NotFound, RetryableError, TopicPartition

__all__ = ["GroupActive", "OffsetMove", "group_members", "reset_offsets"]


class GroupActive(Conflict):
    """The group has members; its offsets cannot be moved under them."""

    code = "group_active"


@dataclass(frozen=True, slots=True)
class OffsetMove:
    partition: int
    before: int | None
    after: int
    end: int

    def as_json(self) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "before": self.before,
            "after": self.after,
            "to_read": self.end - self.after,
        }


async def group_members(bootstrap_servers: str, group: str) -> tuple[str, int]:
    """The group's state (`Empty`, `Stable`, `Dead`, …) and how many members it has."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    try:
        await admin.start()
        [response] = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    described = response.to_object()["groups"]
    if not described:
        return "Dead", 0
    first = described[0]
    if first["error_code"]:
        # COORDINATOR_NOT_AVAILABLE and the like: "no members" would be a guess.
        raise RetryableError(
            f"cannot describe group {group!r}: Kafka error code {first['error_code']}"
        )
    return str(first["state"]), len(first["members"])


async def reset_offsets(
    bootstrap_servers: str,
    group: str,
    topic: str,
    since: datetime,
    *,
    dry_run: bool = False,
) -> list[OffsetMove]:
    """Commit, for `group` on every partition of `topic`, the first offset at `since`.

    Returns each partition's move (before → after), also with `dry_run`, which commits
    nothing.

    Raises:
        NotFound: the topic does not exist.
        GroupActive: the group has active members.
        RetryableError: the group cannot be described now (no coordinator).
    """
    state, members = await group_members(bootstrap_servers, group)
    if members and not dry_run:
        raise GroupActive(
            f"group {group!r} is {state} with {members} member(s): stop its consumers first"
        )
    snapshot = await KafkaOffsetReader(bootstrap_servers).snapshot([group], [topic])
    if topic in snapshot.missing:
        raise NotFound(f"topic {topic!r} does not exist")
    partitions = snapshot.partitions(topic)
    committed = snapshot.committed.get(group, {})
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        found = await consumer.offsets_for_times(dict.fromkeys(partitions, epoch_ms(since)))
        targets: dict[TopicPartition, int] = {
            tp: found[tp].offset if found.get(tp) is not None else snapshot.high[tp]
            for tp in partitions
        }
        if not dry_run:
            consumer.assign(partitions)
            try:
                await consumer.commit(targets)
            except CommitFailedError as exc:
                # A member joined between the check and the commit: the broker refuses.
                raise GroupActive(
                    f"group {group!r} gained members while resetting: stop its consumers first"
                ) from exc
    finally:
        await consumer.stop()
    return [
        OffsetMove(tp.partition, committed.get(tp), targets[tp], snapshot.high[tp])
        for tp in partitions
    ]
