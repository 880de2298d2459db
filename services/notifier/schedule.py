"""The retry schedule: when the next attempt of a failing delivery happens.

Defaults follow Svix: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — eight attempts
spread over about a day and a half. ``scale`` compresses the whole schedule (demo, tests);
``jitter`` spreads retries of many deliveries so a recovering endpoint is not stampeded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

SVIX_DELAYS: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)


@dataclass(frozen=True)
class RetrySchedule:
    """Delays (seconds) before attempt 1, 2, ...; its length is the attempt budget."""

    delays: tuple[float, ...] = SVIX_DELAYS
    jitter: float = 0.2
    scale: float = 1.0
    retry_after_cap: timedelta = timedelta(hours=24)
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.delays:
            raise ValueError("a retry schedule needs at least one attempt")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")
        if self.scale < 0:
            raise ValueError("scale must not be negative")

    @property
    def max_attempts(self) -> int:
        return len(self.delays)

    def delay_before(self, attempt: int) -> timedelta:
        """Delay before the 1-based ``attempt``, scaled and jittered by +/- ``jitter``."""
        base = self.delays[min(attempt, self.max_attempts) - 1] * self.scale
        spread = self.rng.uniform(1 - self.jitter, 1 + self.jitter) if self.jitter else 1.0
        return timedelta(seconds=base * spread)

    def next_attempt_at(
        self, *, now: datetime, attempt: int, retry_after: timedelta | None = None
    ) -> datetime:
        """When the 1-based ``attempt`` may run; a server's Retry-After replaces the schedule."""
        if retry_after is not None:
            return now + min(max(retry_after, timedelta(0)), self.retry_after_cap)
        return now + self.delay_before(attempt)


def parse_retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """Parse a Retry-After header (delay-seconds or HTTP-date); ``None`` if absent or invalid."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when - now, timedelta(0))
