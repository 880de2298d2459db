"""The whole notifier process on a real broker, with real receivers on 127.0.0.1.

Each test gets its own topic namespace, consumer group and database, and a compressed
retry schedule; events are published with the shared `EventPublisher`, as the registry does.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver
from aiohttp.test_utils import TestClient, TestServer
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from services.notifier.app import create_app
from services.notifier.settings import NotifierSettings
from services.notifier.state import CONSUMER
from shared import (
    Event,
    EventPublisher,
    KafkaTransport,
    Observability,
    Outgoing,
    PipelineMetrics,
    configure_logging,
    load_settings,
)
from shared.domain import Activity
from shared.events import ActivityRegistered, ActivityUpdated, namespaced
from tests.integration.notifier_http.conftest import Behaviour, Receiver, ok
from tests.support.activities import activity_doc
from tests.support.operator import OPERATOR_KEY
from tests.support.waiting import eventually

pytestmark = pytest.mark.kafka

KEY = "key-partner-a-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}
FAST_RETRIES = "0,0.05,0.1"
T0 = datetime(2026, 1, 1, tzinfo=UTC)

Client = TestClient[web.Request, web.Application]


def activity(n: int, version: int = 1, **overrides: Any) -> Activity:
    """A valid activity (Kenya, EAC, SDG 9 by default) with id TA-2026-<n>."""
    ident = f"TA-2026-{n:06d}"
    return Activity.model_validate(
        {
            **activity_doc(**overrides),
            "id": ident,
            "version": version,
            "iati_identifier": f"XI-IATI-WIPO-{ident}",
            "created_at": T0,
            "updated_at": T0,
            "created_by": "tests",
            "updated_by": "tests",
        }
    )


def change(state: Activity) -> Event:
    model = ActivityRegistered if state.version == 1 else ActivityUpdated
    return model(activity_id=state.id, version=state.version, actor="tests", state=state)


@dataclass
class Service:
    client: Client
    app: web.Application
    settings: NotifierSettings
    transport: KafkaTransport
    publisher: EventPublisher
    exporter: InMemorySpanExporter
    registry: CollectorRegistry

    def topic(self, name: str) -> str:
        return namespaced(name, self.settings.topic_namespace)

    async def subscribe(
        self, url: str, *, event_types: tuple[str, ...] = ("*",), **filters: Any
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/v1/subscriptions",
            json={"url": url, "event_types": list(event_types), "filters": filters},
            headers=AUTH,
        )
        assert response.status == 201, await response.text()
        body: dict[str, Any] = await response.json()
        return body

    async def publish(self, *events: Event, traceparent: str | None = None) -> None:
        await self.publisher.publish_all(
            [Outgoing(self.topic(e.TOPIC), e, traceparent=traceparent) for e in events]
        )

    async def attempts(self, subscription_id: str) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"/v1/subscriptions/{subscription_id}/attempts", headers=AUTH
        )
        assert response.status == 200, await response.text()
        items: list[dict[str, Any]] = (await response.json())["items"]
        return items

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
def notifier(kafka_bootstrap: str, unique: str, tmp_path: Path) -> Callable[..., Any]:
    """`async with notifier(**env) as service:` a started notifier; env overrides settings."""

    @asynccontextmanager
    async def start(resolver: AbstractResolver | None = None, **env: str) -> AsyncIterator[Service]:
        fields = {
            "consumer_group": f"notifier-{unique}",
            "db_path": str(tmp_path / f"notifier-{unique}.db"),
            "partner_keys": f'{{"pa": {{"name": "Partner A", "keys": ["{KEY}"]}}}}',
            "allowlist": "127.0.0.1/32",
            "retry_delays": FAST_RETRIES,
            "retry_jitter": "0",
            "attempt_timeout_seconds": "5",
            **env,
        }
        settings = load_settings(
            NotifierSettings,
            env={
                "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
                "TABRIDGE_TOPIC_NAMESPACE": f"t{unique}",
                "TABRIDGE_OPERATOR_KEYS": OPERATOR_KEY,
                **{f"NOTIFIER_{name.upper()}": value for name, value in fields.items()},
            },
        )
        assert settings.topic_namespace == f"t{unique}"
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        registry = CollectorRegistry()
        obs = Observability(
            service="notifier",
            logger=configure_logging("notifier", "WARNING", stream=sys.stderr),
            provider=provider,
            tracer=provider.get_tracer("tests"),
            registry=registry,
            metrics=PipelineMetrics(registry),
        )
        transport = KafkaTransport(kafka_bootstrap)
        app = create_app(settings, transport=transport, observability=obs, resolver=resolver)
        publisher = EventPublisher(transport.producer(client_id="tests"), source="/tests")
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            await publisher.start()
            try:
                await eventually(app[CONSUMER].assigned.is_set, message="consumer assigned")
                yield Service(client, app, settings, transport, publisher, exporter, registry)
            finally:
                await publisher.close()

    return start


@pytest.fixture
async def receivers() -> AsyncIterator[Callable[..., Awaitable[Receiver]]]:
    started: list[Receiver] = []

    async def make(behaviour: Behaviour = ok) -> Receiver:
        receiver = Receiver(behaviour)
        await receiver.start()
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        await receiver.stop()
