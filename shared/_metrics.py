"""Prometheus metrics of the event pipeline, registered on a registry the app owns."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["PipelineMetrics"]


class PipelineMetrics:
    """Counters and gauges every consumer and producer reports into.

    One instance per process, built by the composition root on its own registry.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.handled = Counter(
            "tabridge_events_handled_total",
            "Events whose handler completed.",
            ["group", "topic", "type"],
            registry=registry,
        )
        self.skipped = Counter(
            "tabridge_events_skipped_total",
            "Events skipped: duplicates, or types this consumer does not handle.",
            ["group", "topic", "reason"],
            registry=registry,
        )
        self.failed = Counter(
            "tabridge_events_failed_total",
            "Handler attempts that raised.",
            ["group", "topic", "error"],
            registry=registry,
        )
        self.dead_lettered = Counter(
            "tabridge_events_dead_lettered_total",
            "Events written to the dead-letter topic.",
            ["group", "topic"],
            registry=registry,
        )
        self.handler_seconds = Histogram(
            "tabridge_handler_seconds",
            "Handler latency, retries included.",
            ["group", "topic"],
            buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30),
            registry=registry,
        )
        self.lag = Gauge(
            "tabridge_consumer_lag",
            "Messages between the committed offset and the partition's high watermark.",
            ["group", "topic", "partition"],
            registry=registry,
        )
        self.published = Counter(
            "tabridge_events_published_total",
            "Events acknowledged by the broker.",
            ["topic"],
            registry=registry,
        )
        self.halted = Gauge(
            "tabridge_consumer_halted",
            "1 when a consumer stopped because its DLQ limit was exceeded.",
            ["group"],
            registry=registry,
        )
