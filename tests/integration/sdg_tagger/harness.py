"""An sdg-tagger on a real HTTP server on loopback, for unit and integration tests.

Each service gets its own SQLite file, topic namespace and consumer group, so tests that
share a broker never see each other's events.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.sdg_tagger import SdgTagger
from services.sdg_tagger.app import create_app
from services.sdg_tagger.settings import TaggerSettings
from shared import (
    Event,
    EventPublisher,
    Observability,
    Outgoing,
    Transport,
    build_observability,
    configure_logging,
    dlq_topic,
)
from shared.domain import Activity
from shared.events import (
    ACTIVITY_EVENTS,
    SDG_TAGS,
    ActivityRegistered,
    ActivityUpdated,
    ActivityWithdrawn,
    namespaced,
)
from tests.support.activities import activity_doc
from tests.support.operator import AS_OPERATOR, OPERATOR_KEY
from tests.support.waiting import eventually

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

TISC_TEXT = (
    "Establishment of a national network of Technology and Innovation Support Centers "
    "(TISCs) in Ethiopia: training of TISC staff at universities and research centres on "
    "patent searching and on access to scientific and technical databases."
)
ARABIC_TEXT = (
    "إنشاء شبكة وطنية لمراكز دعم التكنولوجيا والابتكار في مصر وتدريب موظفي المراكز "
    "على البحث في البراءات والوصول إلى قواعد البيانات العلمية والتقنية."
)
# Greek: a script neither the model's word tables nor the knowledge terms cover.
GREEK_TEXT = (
    "Δημιουργία εθνικού δικτύου κέντρων υποστήριξης τεχνολογίας και καινοτομίας "
    "και εκπαίδευση του προσωπικού στην αναζήτηση διπλωμάτων ευρεσιτεχνίας."
)


def make_activity(
    n: int,
    *,
    version: int = 1,
    title: dict[str, str] | None = None,
    description: dict[str, str] | None = None,
    goals: Sequence[int] = (),
    targets: Sequence[str] = (),
    **overrides: Any,
) -> Activity:
    """A valid registry activity `TA-2026-<n>` (no curated tags unless given)."""
    activity_id = f"TA-2026-{n:06d}"
    return Activity.model_validate(
        {
            **activity_doc(**overrides),
            "title": title or {"en": "Technology and Innovation Support Centers for Ethiopia"},
            "description": {"en": TISC_TEXT} if description is None else description,
            "sdg": {"goals": list(goals), "targets": list(targets)},
            "id": activity_id,
            "version": version,
            "iati_identifier": f"XI-IATI-WIPO-{activity_id}",
            "created_at": EPOCH,
            "updated_at": EPOCH + timedelta(minutes=version),
            "created_by": "tests",
            "updated_by": "tests",
        }
    )


def registered(activity: Activity) -> ActivityRegistered:
    return ActivityRegistered(
        activity_id=activity.id, version=activity.version, actor="tests", state=activity
    )


def updated(activity: Activity) -> ActivityUpdated:
    return ActivityUpdated(
        activity_id=activity.id, version=activity.version, actor="tests", state=activity
    )


def withdrawn(activity: Activity) -> ActivityWithdrawn:
    return ActivityWithdrawn(
        activity_id=activity.id,
        version=activity.version,
        actor="tests",
        state=activity,
        reason="duplicate",
    )


def tagger_settings(tmp_path: Path, transport: Transport, namespace: str) -> TaggerSettings:
    return TaggerSettings.model_validate(
        {
            "db_path": str(tmp_path / "sdg-tagger.db"),
            "group_id": f"sdg-tagger-{namespace}",
            "TABRIDGE_TOPIC_NAMESPACE": namespace,
            "KAFKA_BOOTSTRAP_SERVERS": getattr(transport, "bootstrap_servers", "memory"),
            "TABRIDGE_OPERATOR_KEYS": OPERATOR_KEY,
        }
    )


def quiet_observability(settings: TaggerSettings, service: str = "sdg-tagger") -> Observability:
    """Real spans (so trace ids travel), quiet logs, a registry of its own."""
    obs = build_observability(service, settings, exporter=InMemorySpanExporter())
    return Observability(
        service=obs.service,
        logger=configure_logging(service, "WARNING", stream=io.StringIO()),
        provider=obs.provider,
        tracer=obs.tracer,
        registry=obs.registry,
        metrics=obs.metrics,
    )


@dataclass
class TaggerService:
    server: TestServer
    http: aiohttp.ClientSession
    settings: TaggerSettings
    transport: Transport
    publisher: EventPublisher
    provider: TracerProvider
    published: int = 0

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    @property
    def activity_topic(self) -> str:
        return namespaced(ACTIVITY_EVENTS, self.settings.topic_namespace)

    @property
    def tags_topic(self) -> str:
        return namespaced(SDG_TAGS, self.settings.topic_namespace)

    @property
    def dlq(self) -> str:
        return dlq_topic(self.activity_topic)

    async def publish(self, *events: Event) -> None:
        """Publish activity events inside one producer trace of the test's own."""
        tracer = self.provider.get_tracer("tests")
        with tracer.start_as_current_span("registry change"):
            await self.publisher.publish_all([Outgoing(self.activity_topic, e) for e in events])
        self.published += len(events)

    async def publish_raw(self, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        future = await self.publisher.publish_raw(
            self.activity_topic, key=key, value=value, headers=headers
        )
        await future
        self.published += 1

    async def count(self, topic: str) -> int:
        return sum((await self.transport.end_offsets([topic])).values())

    async def caught_up(self, group: str | None = None, *, timeout: float = 30) -> None:
        """Wait until `group` (the service's by default) committed every activity record:
        its effects, emissions included, are then on the broker."""
        group = group or self.settings.namespaced_group(self.settings.group_id)

        async def done() -> bool:
            ends = await self.transport.end_offsets([self.activity_topic])
            if sum(ends.values()) < self.published:
                return False
            committed = await self.transport.group_offsets(group)
            return all(committed.get(tp, 0) >= end for tp, end in ends.items())

        await eventually(done, timeout=timeout, interval=0.1, message=f"{group} caught up")

    async def close(self) -> None:
        await self.publisher.close()
        await self.http.close()
        await self.server.close()
        self.provider.shutdown()


async def start_tagger_service(
    tmp_path: Path,
    transport: Transport,
    namespace: str,
    tagger: SdgTagger,
    *,
    group_id: str | None = None,
) -> TaggerService:
    settings = tagger_settings(tmp_path, transport, namespace)
    if group_id is not None:
        settings = settings.model_copy(update={"group_id": group_id})
    app = create_app(
        settings, transport=transport, observability=quiet_observability(settings), tagger=tagger
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    publisher = EventPublisher(
        transport.producer(client_id="tests"),
        source="/tests/registry",
        tracer=provider.get_tracer("tests"),
    )
    await publisher.start()
    return TaggerService(
        server, aiohttp.ClientSession(headers=AS_OPERATOR), settings, transport, publisher, provider
    )
