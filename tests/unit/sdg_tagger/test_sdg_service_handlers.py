"""The activity handler on its own: each tag store (twin, SQLite, PostgreSQL), a recording
`publish`, no broker."""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import partial
from typing import Any

from prometheus_client import CollectorRegistry

from services.sdg_tagger import SdgTagger
from services.sdg_tagger.db import TagStore
from services.sdg_tagger.handlers import handle_activity_change
from services.sdg_tagger.metrics import TaggerMetrics
from shared import Envelope, Event, MessageContext, Outgoing, configure_logging
from shared.events import SdgTagsAssigned
from tests.integration.sdg_tagger.harness import make_activity, registered, updated


class Recorder:
    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    async def __call__(self, items: Sequence[Outgoing]) -> list[Any]:
        self.sent.extend(items)
        return [None for _ in items]


def context(event: Event) -> MessageContext:
    envelope = Envelope(id="e", source="/tests", type=event.ce_type(), data=event.to_json())
    return MessageContext(envelope, "activities", 0, 0, event.key(), 1)


async def test_unknown_curated_targets_are_left_out_and_redelivery_emits_nothing(
    tag_store: TagStore, tagger: SdgTagger
) -> None:
    publish = Recorder()
    metrics = TaggerMetrics(CollectorRegistry())
    log = io.StringIO()
    handle = partial(
        handle_activity_change,
        tagger=tagger,
        store=tag_store,
        publish=publish,
        tags_topic="tags",
        metrics=metrics,
        logger=configure_logging("tests", "WARNING", stream=log),
    )
    event = registered(make_activity(1, goals=[9], targets=["9.5", "9.9"]))
    await handle(event, context(event))
    await handle(event, context(event))

    [sent] = publish.sent
    assert sent.topic == "tags"
    assert sent.event_id is not None
    tags = sent.event
    assert isinstance(tags, SdgTagsAssigned)
    assert [t.target for t in tags.targets if t.decision == "curated"] == ["9.5"]
    assert "9.9" in log.getvalue()
    assert (metrics.count("emitted"), metrics.count("unchanged")) == (1, 1)

    newer = updated(make_activity(1, version=2, goals=[9], targets=["9.5"]))
    await handle(newer, context(newer))
    await handle(event, context(event))  # version 1 again, after version 2
    assert len(publish.sent) == 2
    assert (metrics.count("emitted"), metrics.count("stale")) == (2, 1)
