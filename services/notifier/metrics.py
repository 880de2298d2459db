"""Metrics hooks: the dispatcher reports outcomes here; the composition root adapts them."""

from __future__ import annotations

from typing import Protocol

from .deliveries import AttemptOutcome


class DeliveryMetrics(Protocol):
    def enqueued(self, count: int) -> None:
        """``count`` deliveries were durably queued."""
        ...

    def attempted(self, outcome: AttemptOutcome, latency_seconds: float) -> None:
        """One HTTP attempt ended with ``outcome`` after ``latency_seconds``."""
        ...

    def delivered(self) -> None:
        """A delivery succeeded (a 2xx answer)."""
        ...

    def failed(self) -> None:
        """A delivery ended failed (exhausted, or its subscription was disabled)."""
        ...


class NullMetrics:
    """Counts nothing."""

    def enqueued(self, count: int) -> None:
        pass

    def attempted(self, outcome: AttemptOutcome, latency_seconds: float) -> None:
        pass

    def delivered(self) -> None:
        pass

    def failed(self) -> None:
        pass
