"""Metrics hooks: the dispatcher reports outcomes here; the composition root adapts them."""

from __future__ import annotations

from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram

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


class PrometheusDeliveryMetrics:
    """:class:`DeliveryMetrics` as Prometheus series on the process's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._enqueued = Counter(
            "notifier_deliveries_enqueued_total",
            "Deliveries durably queued (one event for one subscription).",
            registry=registry,
        )
        self._delivered = Counter(
            "notifier_deliveries_delivered_total",
            "Deliveries that got a 2xx answer.",
            registry=registry,
        )
        self._failed = Counter(
            "notifier_deliveries_failed_total",
            "Deliveries that ended failed and went to the webhook DLQ.",
            registry=registry,
        )
        self._attempts = Counter(
            "notifier_delivery_attempts_total",
            "HTTP attempts by outcome (delivered, retry, gone, refused).",
            ["outcome"],
            registry=registry,
        )
        self._latency = Histogram(
            "notifier_delivery_attempt_seconds",
            "Duration of one HTTP attempt, by outcome.",
            ["outcome"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=registry,
        )
        # The labelled children, looked up once (``labels`` builds a key per call).
        self._by_outcome = {
            outcome: (self._attempts.labels(outcome.value), self._latency.labels(outcome.value))
            for outcome in AttemptOutcome
        }

    def enqueued(self, count: int) -> None:
        self._enqueued.inc(count)

    def attempted(self, outcome: AttemptOutcome, latency_seconds: float) -> None:
        attempts, latency = self._by_outcome[outcome]
        attempts.inc()
        latency.observe(latency_seconds)

    def delivered(self) -> None:
        self._delivered.inc()

    def failed(self) -> None:
        self._failed.inc()
