"""The sdg-tagger service end to end: activity events in, `sdg.tags.assigned` out.

Runs on the in-memory twin and on the real broker (`-m kafka`); every test has its own
topic namespace, consumer group and SQLite store.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from services.sdg_tagger import SdgTagger
from services.sdg_tagger.artifact import read_package_files
from services.sdg_tagger.replay import replay
from shared import Envelope
from shared.events import SdgTagsAssigned, build_catalog
from tests.integration.sdg_tagger.harness import (
    ARABIC_TEXT,
    TaggerService,
    make_activity,
    quiet_observability,
    registered,
    updated,
    withdrawn,
)
from tests.support.topics import header, read_topic

CATALOG = build_catalog()


def decode(record: Any) -> SdgTagsAssigned:
    event = CATALOG.decode(Envelope.from_kafka(record.headers, record.value))
    assert isinstance(event, SdgTagsAssigned)
    return event


def kept(event: SdgTagsAssigned) -> set[int]:
    return {g.goal for g in event.goals if g.decision != "rejected"}


def trace_id(record: Any) -> str:
    traceparent = header(record, "traceparent")
    assert traceparent is not None
    return traceparent.split("-")[1]


async def tags_after(service: TaggerService, expected: int) -> list[SdgTagsAssigned]:
    """Every tags event, once the service has handled every activity record."""
    await service.caught_up()
    assert await service.count(service.tags_topic) == expected
    if expected == 0:
        return []
    return [decode(r) for r in await read_topic(service.transport, service.tags_topic, expected)]


def upgraded_model() -> SdgTagger:
    """The packaged model under another id, as after a model upgrade."""
    files = read_package_files()
    return SdgTagger(replace(files, knowledge=files.knowledge + b"\n# upgraded\n"))


async def test_registered_activity_gets_tags_in_the_producers_trace(
    service: TaggerService, tagger: SdgTagger
) -> None:
    await service.publish(registered(make_activity(1)))
    [record] = await read_topic(service.transport, service.tags_topic, 1)
    [source] = await read_topic(service.transport, service.activity_topic, 1)
    event = decode(record)

    assert event.activity_id == "TA-2026-000001"
    assert event.activity_version == 1
    assert event.model_id == tagger.model_id
    assert event.outcome == "tagged"
    assert event.language == "en"
    assert 9 in kept(event)
    goal9 = next(g for g in event.goals if g.goal == 9)
    assert goal9.decision == "assigned"
    assert "tisc" in goal9.evidence.matched_terms
    assert "knowledge.tisc" in goal9.evidence.rules
    assert goal9.evidence.closest_target is not None
    assert goal9.evidence.closest_target.text
    assert any(t.target.startswith("9.") and t.decision == "assigned" for t in event.targets)
    assert record.key == b"TA-2026-000001"
    assert trace_id(record) == trace_id(source)


async def test_curated_tags_win_over_computed_ones(service: TaggerService) -> None:
    await service.publish(registered(make_activity(2, goals=[5], targets=["5.5"])))
    [event] = await tags_after(service, 1)

    assert kept(event) == {5}
    assert next(g for g in event.goals if g.goal == 5).decision == "curated"
    goal9 = next(g for g in event.goals if g.goal == 9)
    assert goal9.decision == "rejected"
    assert "curation.overrides" in goal9.evidence.rules
    assert [t.target for t in event.targets if t.decision == "curated"] == ["5.5"]


async def test_every_new_version_is_tagged_and_redelivery_emits_nothing(
    service: TaggerService,
) -> None:
    first, second = make_activity(3), make_activity(3, version=2)
    await service.publish(registered(first), updated(second))
    events = await tags_after(service, 2)
    assert [e.activity_version for e in events] == [1, 2]
    assert kept(events[0]) == kept(events[1])

    # The same version again (a redelivery, or a producer retry): nothing new.
    await service.publish(updated(second))
    await tags_after(service, 2)


async def test_replay_emits_only_where_the_model_changed_the_result(
    service: TaggerService, tagger: SdgTagger, unique: str
) -> None:
    await service.publish(
        registered(make_activity(4)),
        updated(make_activity(4, version=2)),
        registered(make_activity(5, description={"en": "Training on patent drafting."})),
    )
    await tags_after(service, 3)
    settings = service.settings

    same = await replay(
        settings,
        transport=service.transport,
        observability=quiet_observability(settings, "sdg-tagger-replay"),
        tagger=tagger,
        group_id=f"replay-same-{unique}",
        within=60,
    )
    assert (same.records, same.emitted, same.unchanged, same.stale) == (3, 0, 2, 1)
    await tags_after(service, 3)

    new_model = upgraded_model()
    upgraded = await replay(
        settings,
        transport=service.transport,
        observability=quiet_observability(settings, "sdg-tagger-replay"),
        tagger=new_model,
        group_id=f"replay-new-{unique}",
        within=60,
    )
    assert (upgraded.emitted, upgraded.stale) == (2, 1)
    events = await tags_after(service, 5)
    retagged = [e for e in events if e.model_id == new_model.model_id]
    assert sorted((e.activity_id, e.activity_version) for e in retagged) == [
        ("TA-2026-000004", 2),
        ("TA-2026-000005", 1),
    ]


async def test_withdrawn_activity_emits_nothing_even_on_replay(
    service: TaggerService, unique: str
) -> None:
    await service.publish(registered(make_activity(6)), withdrawn(make_activity(6, version=2)))
    await tags_after(service, 1)
    summary = await replay(
        service.settings,
        transport=service.transport,
        observability=quiet_observability(service.settings, "sdg-tagger-replay"),
        tagger=upgraded_model(),
        group_id=f"replay-{unique}",
        within=60,
    )
    assert (summary.emitted, summary.stale, summary.withdrawn) == (0, 1, 1)
    await tags_after(service, 1)


async def test_arabic_and_huge_texts_get_an_outcome_and_the_consumer_keeps_flowing(
    service: TaggerService,
) -> None:
    arabic = make_activity(
        7, title={"ar": "مراكز دعم التكنولوجيا"}, description={"ar": ARABIC_TEXT}
    )
    huge = make_activity(8, description={"en": ("innovation and patents " * 900)[:20_000]})
    curated_arabic = make_activity(
        9, title={"ar": "مراكز"}, description={"ar": ARABIC_TEXT}, goals=[9]
    )
    await service.publish(registered(arabic), registered(huge), registered(curated_arabic))
    events = {e.activity_id: e for e in await tags_after(service, 3)}

    # Arabic is read by the model through its ar->en word table.
    assert events["TA-2026-000007"].outcome == "tagged"
    assert events["TA-2026-000007"].language == "ar"
    assert 9 in kept(events["TA-2026-000007"])
    assert events["TA-2026-000008"].outcome == "tagged"
    assert events["TA-2026-000009"].outcome == "tagged"
    assert kept(events["TA-2026-000009"]) == {9}


async def test_poison_event_goes_to_the_dlq_and_the_partition_keeps_flowing(
    service: TaggerService,
) -> None:
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"poison-1"),
        ("ce_source", b"/tests"),
        ("ce_type", b"org.wipo.tabridge.activity.registered.v1"),
        ("content-type", b"application/json"),
    ]
    await service.publish_raw(b"TA-2026-000010", b'{"activity_id": 42}', headers)
    await service.publish(registered(make_activity(10)))

    [dead] = await read_topic(service.transport, service.dlq, 1)
    assert header(dead, "ce_id") == "poison-1"
    [event] = await tags_after(service, 1)
    assert event.activity_id == "TA-2026-000010"
