"""partner-feed's own Prometheus metrics (the pipeline ones come from `shared`)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class FeedMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.imports = Counter(
            "partnerfeed_imports_total",
            "Imports finished, by partner, channel and status",
            ["partner", "channel", "status"],
            registry=registry,
        )
        self.records = Counter(
            "partnerfeed_records_total",
            "Records ingested, by partner and outcome (new, changed, unchanged, quarantined, "
            "removed)",
            ["partner", "outcome"],
            registry=registry,
        )
        self.links = Counter(
            "partnerfeed_links_total",
            "Partner records linked to activities, by method",
            ["partner", "method"],
            registry=registry,
        )
        self.import_seconds = Histogram(
            "partnerfeed_import_seconds",
            "Wall time of one import",
            ["partner"],
            registry=registry,
            buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 1200),
        )
        self.pulls = Counter(
            "partnerfeed_pulls_total",
            "Scheduled pulls, by partner and outcome (imported, not_modified, failed)",
            ["partner", "outcome"],
            registry=registry,
        )
        self.feed_items = Counter(
            "partnerfeed_feed_items_total",
            "Activities rendered into outbound feeds, by feed",
            ["feed"],
            registry=registry,
        )
        self.unpublishable = Counter(
            "partnerfeed_feed_unpublishable_total",
            "Activities left out of a feed because they lack what IATI requires",
            ["feed"],
            registry=registry,
        )
