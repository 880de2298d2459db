"""sdg-tagger's own Prometheus metrics (the pipeline ones come from `shared`)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from services.sdg_tagger.emission import Verdict


class TaggerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry
        self.activities = Counter(
            "sdgtagger_activities_total",
            "Activity events tagged, by verdict (emitted, unchanged, stale, withdrawn)",
            ["verdict"],
            registry=registry,
        )
        self.outcomes = Counter(
            "sdgtagger_outcomes_total",
            "Tag results, by outcome (tagged, knowledge_only, unsupported_language, empty)",
            ["outcome", "channel"],
            registry=registry,
        )
        self.reused = Counter(
            "sdgtagger_results_reused_total",
            "Activity changes that left the tagged text and curated tags as they were, so "
            "the activity's last result was reused instead of tagging again",
            registry=registry,
        )

    def verdict(self, verdict: Verdict) -> None:
        self.activities.labels(verdict).inc()

    def count(self, verdict: Verdict) -> float:
        """How many activity events got `verdict` so far (for the replay summary)."""
        value = self._registry.get_sample_value("sdgtagger_activities_total", {"verdict": verdict})
        return value or 0.0
