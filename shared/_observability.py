"""Logging, tracing and metrics for one process, built once by its composition root."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.trace import Tracer
from prometheus_client import CollectorRegistry
from structlog.typing import FilteringBoundLogger

from shared._logging import configure_logging
from shared._metrics import PipelineMetrics
from shared._producer import EventPublisher
from shared._settings import CommonSettings
from shared._tracing import build_tracer_provider
from shared._transport import Transport

__all__ = ["Observability", "build_observability"]


@dataclass(frozen=True, slots=True)
class Observability:
    """What every component of a process is handed: a logger, a tracer and metrics."""

    service: str
    logger: FilteringBoundLogger
    provider: TracerProvider
    tracer: Tracer
    registry: CollectorRegistry
    metrics: PipelineMetrics

    def event_publisher(self, kafka: Transport, *, source: str) -> EventPublisher:
        """This process's publisher: a producer named for the service, traced and counted."""
        return EventPublisher(
            kafka.producer(client_id=self.service),
            source=source,
            tracer=self.tracer,
            metrics=self.metrics,
        )

    async def cleanup_context(self, app: web.Application) -> AsyncIterator[None]:
        """Flush and stop span export when the app stops (register it first)."""
        yield
        self.provider.shutdown()


def build_observability(
    service: str, settings: CommonSettings, *, exporter: SpanExporter | None = None
) -> Observability:
    """JSON logs, an OpenTelemetry provider (OTLP, local JSON lines, or `exporter`) and a
    Prometheus registry of this process's own."""
    logger = configure_logging(service, settings.log_level)
    provider = build_tracer_provider(
        service,
        otlp_endpoint=settings.otel_exporter_otlp_endpoint,
        trace_dir=settings.trace_dir,
        exporter=exporter,
        sample_ratio=settings.trace_sample_ratio,
    )
    registry = CollectorRegistry()
    return Observability(
        service=service,
        logger=logger,
        provider=provider,
        tracer=provider.get_tracer(f"ta-bridge.{service}"),
        registry=registry,
        metrics=PipelineMetrics(registry),
    )
