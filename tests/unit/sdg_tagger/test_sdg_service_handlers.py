"""The activity handler on its own: each tag store (twin, SQLite, PostgreSQL), a recording
`publish`, no broker."""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import partial
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from services.sdg_tagger import SdgTagger
from services.sdg_tagger.artifact import read_package_files
from services.sdg_tagger.db import TagStore
from services.sdg_tagger.handlers import handle_activity_change
from services.sdg_tagger.metrics import TaggerMetrics
from services.sdg_tagger.recent import RecentResults
from services.sdg_tagger.result import TagResult
from shared import Envelope, Event, MessageContext, Outgoing, configure_logging
from shared.domain import Status
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


class CountingTagger(SdgTagger):
    """The real tagger, counting how often it tags."""

    calls: int = 0

    def tag(self, text: str, **kwargs: Any) -> TagResult:
        self.calls += 1
        return super().tag(text, **kwargs)


async def test_a_change_that_leaves_the_text_as_it_was_is_not_tagged_again(
    tag_store: TagStore,
) -> None:
    counting = CountingTagger(read_package_files())
    publish = Recorder()
    registry = CollectorRegistry()
    metrics = TaggerMetrics(registry)
    handle = partial(
        handle_activity_change,
        tagger=counting,
        store=tag_store,
        publish=publish,
        tags_topic="tags",
        metrics=metrics,
        logger=configure_logging("tests", "WARNING", stream=io.StringIO()),
        recent=RecentResults(capacity=8),
    )
    first = registered(make_activity(1, goals=[9], targets=["9.5"]))
    await handle(first, context(first))
    same_text = updated(
        make_activity(1, version=2, goals=[9], targets=["9.5"]).model_copy(
            update={"status": Status.FINALISATION}
        )
    )
    await handle(same_text, context(same_text))
    assert counting.calls == 1
    assert registry.get_sample_value("sdgtagger_results_reused_total") == 1
    # Each version still gets its tags event, with the same tags.
    first_tags, second_tags = (o.event for o in publish.sent)
    assert isinstance(first_tags, SdgTagsAssigned)
    assert isinstance(second_tags, SdgTagsAssigned)
    assert second_tags.activity_version == 2
    assert second_tags.targets == first_tags.targets

    other_targets = updated(make_activity(1, version=3, goals=[9], targets=["9.1"]))
    await handle(other_targets, context(other_targets))
    assert counting.calls == 2
    assert len(publish.sent) == 3


def test_recent_results_are_bounded_and_per_activity(tagger: SdgTagger) -> None:
    result = tagger.tag("national IP strategy for innovation")
    recent = RecentResults(capacity=2)
    recent.put("a", b"1", result)
    recent.put("b", b"1", result)
    assert recent.get("a", b"1") is result  # `a` is now the most recent
    assert recent.get("a", b"2") is None  # another input: tag again
    recent.put("c", b"1", result)
    assert len(recent) == 2
    assert recent.get("b", b"1") is None  # the least recent went
    assert recent.get("c", b"1") is result
    recent.forget("c")
    assert recent.get("c", b"1") is None
    with pytest.raises(ValueError, match="capacity"):
        RecentResults(capacity=-1)
