"""What a dead letter carries: the original record plus why and where it failed; and where
a redriven one goes back to.

Several consumer groups read one topic and share its `<topic>.dlq`, each dead letter
naming its group (`dlq.consumer.group`). A redrive must reach only that group, so it is
written to the group's own retry topic, `tabridge.retry.<group>` within the namespace
(`retry_topic`: `staging.tabridge.retry.notifier`), which that group's runner reads
alongside its topics, and no other group does; the runner names it in each dead letter
(`dlq.retry.topic`), so a redrive needs no guess. The redriven record is the original
one (key, value, CloudEvents headers) plus `redrive.original.*` headers naming where it
first was: if it fails again, its dead letter goes to the original topic's DLQ and names
the original topic, partition and offset, as the first one did (`dead_letter_topic`,
`dead_letter_headers`), so the same redrive works again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from shared._errors import InvalidInput

__all__ = [
    "DLQ_SUFFIX",
    "REDRIVE_HEADER_PREFIX",
    "RETRY_PREFIX",
    "dead_letter_headers",
    "dead_letter_topic",
    "dlq_topic",
    "redriven_headers",
    "retry_topic",
]

DLQ_SUFFIX = ".dlq"
RETRY_PREFIX = "tabridge.retry."
REDRIVE_HEADER_PREFIX = "redrive."
_ORIGINAL_TOPIC = "redrive.original.topic"
_ORIGINAL_PARTITION = "redrive.original.partition"
_ORIGINAL_OFFSET = "redrive.original.offset"
_MAX_MESSAGE = 2000


def dlq_topic(topic: str) -> str:
    return f"{topic}{DLQ_SUFFIX}"


def retry_topic(group: str, namespace: str = "") -> str:
    """The topic a redrive writes the dead letters of consumer group `group` (its name
    within `namespace`, as the settings give it) to: `<namespace>.tabridge.retry.<group>`."""
    name = f"{RETRY_PREFIX}{group}"
    return f"{namespace}.{name}" if namespace else name


def redriven_headers(
    original: Sequence[tuple[str, bytes]], *, topic: str, partition: int, offset: int
) -> list[tuple[str, bytes]]:
    """The headers of a redriven record: the original ones (any earlier `redrive.*` dropped)
    followed by `redrive.original.*` naming where the record first was."""
    kept = [(k, v) for k, v in original if not k.startswith(REDRIVE_HEADER_PREFIX)]
    return [
        *kept,
        (_ORIGINAL_TOPIC, topic.encode()),
        (_ORIGINAL_PARTITION, str(partition).encode()),
        (_ORIGINAL_OFFSET, str(offset).encode()),
    ]


def _origin(
    headers: Sequence[tuple[str, bytes]], topic: str, partition: int, offset: int
) -> tuple[str, int, int]:
    """Where a record first was: its own place, or the one its redrive headers name."""
    found = {k: v for k, v in headers if k.startswith(REDRIVE_HEADER_PREFIX)}
    try:
        return (
            found[_ORIGINAL_TOPIC].decode(),
            int(found[_ORIGINAL_PARTITION]),
            int(found[_ORIGINAL_OFFSET]),
        )
    except (KeyError, ValueError, UnicodeDecodeError):
        return topic, partition, offset


def dead_letter_topic(topic: str, headers: Sequence[tuple[str, bytes]]) -> str:
    """The DLQ of a record read from `topic`: its original topic's, for a redriven one."""
    return dlq_topic(_origin(headers, topic, 0, 0)[0])


def dead_letter_headers(
    original: Sequence[tuple[str, bytes]],
    *,
    error: BaseException,
    topic: str,
    partition: int,
    offset: int,
    group: str,
    attempts: int,
    now: datetime | None = None,
    retry_topic: str | None = None,
) -> list[tuple[str, bytes]]:
    """The original headers, untouched, followed by `dlq.*` headers describing the failure.

    For a redriven record (read from a retry topic) `dlq.original.*` name where it first
    was, not the retry topic. `retry_topic`, the group's, is named in `dlq.retry.topic`."""
    topic, partition, offset = _origin(original, topic, partition, offset)
    message = str(error)
    if isinstance(error, InvalidInput) and error.faults:
        message += " | " + "; ".join(f"{f.pointer}: {f.message}" for f in error.faults)
    extra = {
        "dlq.error.type": type(error).__name__,
        "dlq.error.message": message[:_MAX_MESSAGE],
        "dlq.original.topic": topic,
        "dlq.original.partition": str(partition),
        "dlq.original.offset": str(offset),
        "dlq.consumer.group": group,
        "dlq.attempts": str(attempts),
        "dlq.failed_at": (now or datetime.now(UTC)).isoformat(),
    }
    if retry_topic is not None:
        extra["dlq.retry.topic"] = retry_topic
    return [*original, *((k, v.encode()) for k, v in extra.items())]
