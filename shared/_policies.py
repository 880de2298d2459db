"""Kafka semantics as values: when to commit, how to retry, when to stop dead-lettering."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field

from shared._errors import RetryableError

__all__ = ["CommitPolicy", "DlqLimit", "DlqWindow", "RetryPolicy"]


@dataclass(frozen=True, slots=True)
class CommitPolicy:
    """Commit processed offsets after `every_messages` or `every_seconds`, whichever first.

    Offsets are only ever committed for messages whose handler effect has completed (or
    that were dead-lettered and the DLQ write acknowledged). Revocation and shutdown always
    commit, whatever the policy says.
    """

    every_messages: int = 1000
    every_seconds: float = 1.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry a handler that raised one of `retryable`, with capped exponential backoff."""

    max_attempts: int = 5
    initial_backoff: float = 0.1
    max_backoff: float = 5.0
    multiplier: float = 2.0
    jitter: float = 0.2
    retryable: tuple[type[BaseException], ...] = (RetryableError, OSError, TimeoutError)

    def is_retryable(self, exc: BaseException) -> bool:
        return isinstance(exc, self.retryable)

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        base = min(self.max_backoff, self.initial_backoff * self.multiplier ** (attempt - 1))
        return base * (1 + self.jitter * (2 * rng.random() - 1))


@dataclass(frozen=True, slots=True)
class DlqLimit:
    """How much dead-lettering is tolerated before the consumer halts.

    `max_consecutive`: poison messages in a row (a broken dependency looks like this).
    `max_ratio` over the last `window` messages: a slowly rising failure rate.
    """

    max_consecutive: int = 50
    max_ratio: float = 0.5
    window: int = 200


@dataclass
class DlqWindow:
    """Tracks recent outcomes against a `DlqLimit`."""

    limit: DlqLimit
    consecutive: int = 0
    recent: deque[bool] = field(default_factory=deque)

    def record(self, dead_lettered: bool) -> None:
        self.consecutive = self.consecutive + 1 if dead_lettered else 0
        self.recent.append(dead_lettered)
        if len(self.recent) > self.limit.window:
            self.recent.popleft()

    def record_ok(self, count: int) -> None:
        """`count` messages in a row that were not dead-lettered."""
        if count <= 0:
            return
        self.consecutive = 0
        recent = self.recent
        recent.extend([False] * min(count, self.limit.window))
        while len(recent) > self.limit.window:
            recent.popleft()

    def exceeded(self) -> str | None:
        """Why the limit is exceeded, or None while within it."""
        if self.consecutive > self.limit.max_consecutive:
            return f"{self.consecutive} consecutive messages dead-lettered"
        if len(self.recent) >= self.limit.window:
            ratio = sum(self.recent) / len(self.recent)
            if ratio > self.limit.max_ratio:
                return f"{ratio:.0%} of the last {len(self.recent)} messages dead-lettered"
        return None
