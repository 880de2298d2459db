"""The notifier's offsets are committed only once the deliveries they produced are stored.

The handlers hand deliveries to the write-behind writer and return; the runner's
durability barrier (`Dispatcher.durable`) holds each commit until the writer has stored
them. Run on the
in-memory twin and on the real broker.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from services.notifier.app import create_app
from services.notifier.deliveries import Attempt, Delivery
from services.notifier.settings import NotifierSettings
from services.notifier.state import CONSUMER, STORE
from shared import (
    EventPublisher,
    Observability,
    Outgoing,
    PipelineMetrics,
    Transport,
    configure_logging,
    load_settings,
)
from shared.events import ACTIVITY_EVENTS, namespaced
from tests.integration.notifier_http.conftest import Receiver
from tests.support.waiting import eventually

from .conftest import AUTH, KEY, activity, change


async def test_offsets_wait_for_the_store_and_nothing_is_lost(
    transport: Transport, unique: str, tmp_path: Path
) -> None:
    receiver = Receiver()
    await receiver.start()
    settings = load_settings(
        NotifierSettings,
        env={
            "KAFKA_BOOTSTRAP_SERVERS": "unused:9092",
            "TABRIDGE_TOPIC_NAMESPACE": f"t{unique}",
            "NOTIFIER_CONSUMER_GROUP": f"notifier-{unique}",
            "NOTIFIER_DB_PATH": str(tmp_path / "n.db"),
            "NOTIFIER_PARTNER_KEYS": f'{{"pa": {{"name": "Partner A", "keys": ["{KEY}"]}}}}',
            "NOTIFIER_ALLOWLIST": "127.0.0.1/32",
        },
    )
    provider = TracerProvider()
    registry = CollectorRegistry()
    obs = Observability(
        service="notifier",
        logger=configure_logging("notifier", "CRITICAL", stream=sys.stderr),
        provider=provider,
        tracer=provider.get_tracer("tests"),
        registry=registry,
        metrics=PipelineMetrics(registry),
    )
    app = create_app(settings, transport=transport, observability=obs)
    publisher = EventPublisher(transport.producer(client_id="tests"), source="/tests")
    topic = namespaced(ACTIVITY_EVENTS, settings.topic_namespace)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        await publisher.start()
        try:
            await eventually(app[CONSUMER].assigned.is_set, message="consumer assigned")
            response = await client.post(
                "/v1/subscriptions",
                json={"url": receiver.url, "event_types": ["*"], "filters": {}},
                headers=AUTH,
            )
            assert response.status == 201, await response.text()

            store = app[STORE]
            healthy = asyncio.Event()
            tries: list[int] = []
            retried = asyncio.Event()
            write = store.write_batch

            async def outage_then_write(
                new: Sequence[Delivery], attempts: Sequence[tuple[Attempt, Delivery]] = ()
            ) -> list[Delivery]:
                if not healthy.is_set():
                    tries.append(len(new))
                    if len(tries) >= 3:
                        retried.set()
                    raise OSError("disk I/O error")
                return await write(new, attempts)

            store.write_batch = outage_then_write  # type: ignore[method-assign]
            await publisher.publish_all([Outgoing(topic, change(activity(1)))])
            # The writer retries once a second: by the third try the runner's commit
            # (due a second after the record was handled) has been asked for.
            await retried.wait()

            async def committed() -> int:
                group = settings.namespaced_group(settings.consumer_group)
                offsets = await transport.group_offsets(group)
                return sum(o for tp, o in offsets.items() if tp.topic == topic)

            # The handler returned long ago; the write has not held, so no commit may pass.
            assert await committed() == 0
            assert receiver.received == []

            healthy.set()
            (got,) = await receiver.wait_for(1, timeout=30)
            assert got.subject == "TA-2026-000001"

            async def all_committed() -> bool:
                return await committed() == 1

            await eventually(all_committed, message="offset committed", timeout=30)
        finally:
            await publisher.close()
            await receiver.stop()
