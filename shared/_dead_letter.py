"""What a dead letter carries: the original record plus why and where it failed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from shared._errors import InvalidInput

__all__ = ["DLQ_SUFFIX", "dead_letter_headers", "dlq_topic"]

DLQ_SUFFIX = ".dlq"
_MAX_MESSAGE = 2000


def dlq_topic(topic: str) -> str:
    return f"{topic}{DLQ_SUFFIX}"


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
) -> list[tuple[str, bytes]]:
    """The original headers, untouched, followed by `dlq.*` headers describing the failure."""
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
    return [*original, *((k, v.encode()) for k, v in extra.items())]
