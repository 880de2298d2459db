"""Two environments on one cluster, both left at the default group name: their consumer
group ids follow `TABRIDGE_TOPIC_NAMESPACE`, so each is a group of one member that gets
every event of its own namespace, and the ops offset reset works on the namespaced id."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.ops.offset_reset import reset_offsets
from services.sdg_tagger import SdgTagger
from shared import KafkaTransport
from tests.integration.sdg_tagger.harness import (
    TaggerService,
    make_activity,
    registered,
    start_tagger_service,
)
from tests.support.topics import read_topic

pytestmark = pytest.mark.kafka

EVENTS = 4


async def test_two_namespaces_with_one_group_name_each_get_every_event(
    tmp_path: Path, kafka_bootstrap: str, unique: str, tagger: SdgTagger
) -> None:
    transport = KafkaTransport(kafka_bootstrap)
    services: list[TaggerService] = []
    try:
        for env in ("staging", "prod"):
            (tmp_path / env).mkdir()
            services.append(
                await start_tagger_service(
                    tmp_path / env, transport, f"{env}{unique}", tagger, group_id="sdg-tagger"
                )
            )
        staging = services[0]
        groups = [s.settings.namespaced_group("sdg-tagger") for s in services]
        assert groups == [f"staging{unique}.sdg-tagger", f"prod{unique}.sdg-tagger"]

        for n, service in enumerate(services):
            await service.publish(*(registered(make_activity(100 * n + i)) for i in range(EVENTS)))
        for service, group in zip(services, groups, strict=True):
            await service.caught_up()
            assert await service.count(service.tags_topic) == EVENTS
            tags = await read_topic(service.transport, service.tags_topic, EVENTS)
            assert len({r.key for r in tags}) == EVENTS
            # The group holds this environment's consumer only.
            assert await transport.describe_group(group) == ("Stable", 1)
            committed = await transport.group_offsets(group)
            assert {tp.topic for tp in committed} == {service.activity_topic}
            assert sum(committed.values()) == EVENTS

        # The ops reset takes the namespaced id as given; it refuses while the group runs.
        await staging.close()
        services.remove(staging)
        moves = await reset_offsets(
            transport, groups[0], staging.activity_topic, datetime(2000, 1, 1, tzinfo=UTC)
        )
        assert sum(m.after for m in moves) == 0
        assert sum(m.before or 0 for m in moves) == EVENTS
        assert sum((await transport.group_offsets(groups[1])).values()) == EVENTS
    finally:
        for service in services:
            await service.close()
