"""A partner-feed service on a real HTTP server on loopback, for unit and integration tests.

Each service gets its own SQLite file, topic namespace, consumer group and partner keys.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from services.partner_feed.app import create_app
from services.partner_feed.partners import hash_key
from services.partner_feed.settings import FeedSettings
from shared import (
    Event,
    EventPublisher,
    Observability,
    Outgoing,
    Transport,
    build_observability,
    configure_logging,
)
from shared.domain import Activity
from shared.events import (
    ACTIVITY_EVENTS,
    PARTNER_LINKS,
    PARTNER_RECORDS,
    SDG_TAGS,
    ActivityRegistered,
    namespaced,
)
from tests.support.activities import activity_doc
from tests.support.operator import OPERATOR_KEY
from tests.support.topics import read_topic

ORG = "XI-IATI-WIPO"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def make_activity(n: int, *, version: int = 1, **overrides: Any) -> Activity:
    """A valid registry activity `TA-2026-<n>` built from the shared test document."""
    activity_id = f"TA-2026-{n:06d}"
    return Activity.model_validate(
        {
            **activity_doc(**overrides),
            "id": activity_id,
            "version": version,
            "iati_identifier": f"{ORG}-{activity_id}",
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


@dataclass
class FeedService:
    server: TestServer
    http: aiohttp.ClientSession
    settings: FeedSettings
    transport: Transport
    publisher: EventPublisher
    keys: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def topic(self, name: str) -> str:
        return namespaced(name, self.settings.topic_namespace)

    @property
    def records_topic(self) -> str:
        return self.topic(PARTNER_RECORDS)

    @property
    def links_topic(self) -> str:
        return self.topic(PARTNER_LINKS)

    def auth(self, partner: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[partner]}"}

    async def upload(
        self,
        partner: str,
        body: bytes,
        *,
        fmt: str = "iati",
        wait: bool = True,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        params = {"partner": partner, "format": fmt, "wait": "true" if wait else "false"}
        async with self.http.post(
            self.url("/v1/imports"),
            params=params,
            data=body,
            headers={**self.auth(partner), **(headers or {})},
        ) as resp:
            return resp.status, orjson.loads(await resp.read())

    async def get_json(self, path: str, partner: str) -> tuple[int, Any]:
        async with self.http.get(self.url(path), headers=self.auth(partner)) as resp:
            return resp.status, orjson.loads(await resp.read())

    async def feed(
        self, name: str, params: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, CIMultiDict[str]]:
        async with self.http.get(
            self.url(f"/v1/feeds/{name}"), params=params or {}, headers=headers or {}
        ) as resp:
            return resp.status, await resp.read(), CIMultiDict(resp.headers)

    async def publish(self, events: Sequence[Event]) -> None:
        topics = {ActivityRegistered.TOPIC: ACTIVITY_EVENTS, SDG_TAGS: SDG_TAGS}
        await self.publisher.publish_all(
            [Outgoing(self.topic(topics.get(e.TOPIC, e.TOPIC)), e) for e in events]
        )

    async def events(self, topic: str, expected: int) -> list[Any]:
        """Every record on `topic`, once at least `expected` arrived (read from the start)."""
        if expected == 0:
            return []
        return await read_topic(self.transport, topic, expected)

    async def close(self) -> None:
        await self.publisher.close()
        await self.http.close()
        await self.server.close()


def quiet_observability(settings: FeedSettings) -> Observability:
    obs = build_observability("partner-feed", settings)
    # Tests keep logs quiet; production logs JSON to stderr.
    return Observability(
        service=obs.service,
        logger=configure_logging("partner-feed", "WARNING", stream=io.StringIO()),
        provider=obs.provider,
        tracer=obs.tracer,
        registry=obs.registry,
        metrics=obs.metrics,
    )


async def start_feed_service(
    tmp_path: Path,
    transport: Transport,
    namespace: str,
    *,
    partners: Sequence[dict[str, Any]] = ({"id": "unctad"},),
    **overrides: Any,
) -> FeedService:
    keys = {p["id"]: f"key-{p['id']}-{namespace}" for p in partners}
    configured = [{**p, "api_key_sha256": [hash_key(keys[p["id"]])]} for p in partners]
    settings = FeedSettings.model_validate(
        {
            "db_path": str(tmp_path / "partner-feed.db"),
            "partners": orjson.dumps(configured).decode(),
            "consumer_group": f"partner-feed-{namespace}",
            "upload_dir": str(tmp_path),
            "TABRIDGE_TOPIC_NAMESPACE": namespace,
            "KAFKA_BOOTSTRAP_SERVERS": getattr(transport, "bootstrap_servers", "memory"),
            "TABRIDGE_OPERATOR_KEYS": OPERATOR_KEY,
            **overrides,
        }
    )
    app = create_app(settings, transport=transport, observability=quiet_observability(settings))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    publisher = EventPublisher(transport.producer(client_id="tests"), source="/tests")
    await publisher.start()
    return FeedService(server, aiohttp.ClientSession(), settings, transport, publisher, keys)
