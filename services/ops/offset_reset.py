"""Moving a stopped consumer group's offsets back (or forward) to a moment: `ta-bridge replay`.

For every partition of the topic, the new offset is the first record written at or after
the moment (`offsets_for_times`), or the partition's end when there is none. The group
must have no active member: a running consumer would overwrite the offsets with its own
commits, so the reset refuses (stop the service, reset, start it again).

The commit is made by a consumer that assigns the partitions itself and never joins the
group (`ClusterOps.commit_group_offsets`); offsets of other topics of the group are left as
they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.ops.moments import epoch_ms
from shared import (
    BrokerUnavailable,
    ClusterOps,
    CommitRefused,
    Conflict,
    KafkaTransport,
    NotFound,
    RetryableError,
    TopicPartition,
    TransportOffsetReader,
)

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


def _ops(kafka: str | ClusterOps) -> ClusterOps:
    return KafkaTransport(kafka) if isinstance(kafka, str) else kafka


async def group_members(kafka: str | ClusterOps, group: str) -> tuple[str, int]:
    """The group's state (`Empty`, `Stable`, `Dead`, …) and how many members it has.

    Raises:
        RetryableError: the group cannot be described now (no coordinator).
    """
    try:
        return await _ops(kafka).describe_group(group)
    except BrokerUnavailable as exc:
        raise RetryableError(str(exc)) from exc


async def reset_offsets(
    kafka: str | ClusterOps,
    group: str,
    topic: str,
    since: datetime,
    *,
    dry_run: bool = False,
) -> list[OffsetMove]:
    """Commit, for `group` on every partition of `topic`, the first offset at `since`.

    `kafka` is a bootstrap address or a transport (the in-memory twin in tests). Returns
    each partition's move (before → after), also with `dry_run`, which commits nothing.

    Raises:
        NotFound: the topic does not exist.
        GroupActive: the group has active members.
        RetryableError: the group cannot be described now (no coordinator).
    """
    ops = _ops(kafka)
    state, members = await group_members(ops, group)
    if members and not dry_run:
        raise GroupActive(
            f"group {group!r} is {state} with {members} member(s): stop its consumers first"
        )
    snapshot = await TransportOffsetReader(ops).snapshot([group], [topic])
    if topic in snapshot.missing:
        raise NotFound(f"topic {topic!r} does not exist")
    partitions = snapshot.partitions(topic)
    committed = snapshot.committed.get(group, {})
    found = await ops.offsets_for_times(partitions, epoch_ms(since))
    targets: dict[TopicPartition, int] = {
        tp: offset if (offset := found.get(tp)) is not None else snapshot.high[tp]
        for tp in partitions
    }
    if not dry_run:
        try:
            await ops.commit_group_offsets(group, targets)
        except CommitRefused as exc:
            # A member joined between the check and the commit: the broker refuses.
            raise GroupActive(
                f"group {group!r} gained members while resetting: stop its consumers first"
            ) from exc
    return [
        OffsetMove(tp.partition, committed.get(tp), targets[tp], snapshot.high[tp])
        for tp in partitions
    ]
