"""Event handlers of the tagger: activity changes in, `sdg.tags.assigned` out.

Handlers are plain functions of the event and their dependencies (bound with
`functools.partial` by the composition root). They publish in the record's trace context
(the runner makes it current), so the tags event continues the activity change's trace.

Idempotent: the store's last emission per activity decides (see `emission`), and the store
is written only after the broker acknowledged the event, so a redelivered event emits
nothing new, and a crash in between re-emits the same event id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from structlog.typing import FilteringBoundLogger

from services.sdg_tagger.activity_text import activity_text
from services.sdg_tagger.db import TagStore
from services.sdg_tagger.emission import decide, event_id_for, fingerprint
from services.sdg_tagger.metrics import TaggerMetrics
from services.sdg_tagger.recent import RecentResults, input_digest
from services.sdg_tagger.tag_event import tags_event
from services.sdg_tagger.tagger import SdgTagger
from shared import Event, MessageContext, Outgoing
from shared.domain import Status
from shared.events import ActivityRegistered, ActivityUpdated, ActivityWithdrawn

__all__ = ["Publish", "handle_activity_change", "handle_withdrawn"]

Publish = Callable[[Sequence[Outgoing]], Awaitable[list[Any]]]


async def handle_activity_change(
    event: Event,
    ctx: MessageContext,
    *,
    tagger: SdgTagger,
    store: TagStore,
    publish: Publish,
    tags_topic: str,
    metrics: TaggerMetrics,
    logger: FilteringBoundLogger,
    recent: RecentResults | None = None,
) -> None:
    """Tag a registered or updated activity; emit its tags when `emission.decide` says so.

    Never fails because of the text: empty, huge or foreign text gets an outcome.
    Curated targets the catalogue does not know are left out (and logged), not fatal.
    A change that leaves what the tagger reads as it was reuses the activity's last result
    from `recent` (`sdgtagger_results_reused_total`).
    """
    assert isinstance(event, ActivityRegistered | ActivityUpdated)
    activity = event.state
    if activity.status is Status.WITHDRAWN:
        await handle_withdrawn(event, ctx, store=store, metrics=metrics)
        if recent is not None:
            recent.forget(event.activity_id)
        return
    last = await store.last(event.activity_id)
    if last is not None and (last.withdrawn or event.version < last.version):
        metrics.verdict("stale")
        return
    source = activity_text(activity)
    known = tuple(t for t in source.curated_targets if tagger.catalogue.has_target(t))
    if len(known) < len(source.curated_targets):
        logger.warning(
            "unknown curated SDG targets ignored",
            activity_id=event.activity_id,
            targets=sorted(set(source.curated_targets) - set(known)),
        )
    digest = input_digest(source, known)
    result = recent.get(event.activity_id, digest) if recent is not None else None
    if result is None:
        result = await asyncio.to_thread(
            tagger.tag, source.text, curated_goals=source.curated_goals, curated_targets=known
        )
        if recent is not None:
            recent.put(event.activity_id, digest, result)
        metrics.outcomes.labels(result.outcome, "event").inc()
    else:
        metrics.reused.inc()
    print_ = fingerprint(result)
    verdict = decide(last, event.version, print_)
    metrics.verdict(verdict)
    if verdict != "emitted":
        return
    event_id = event_id_for(event.activity_id, event.version, last, print_)
    outgoing = tags_event(event.activity_id, event.version, result)
    await publish([Outgoing(tags_topic, outgoing, event_id=event_id)])
    await store.record_emitted(event.activity_id, event.version, print_, event_id)
    logger.info(
        "sdg tags emitted",
        activity_id=event.activity_id,
        version=event.version,
        outcome=result.outcome,
        goals=list(result.assigned_goals),
        model_id=result.model_id,
    )


async def handle_withdrawn(
    event: Event, ctx: MessageContext, *, store: TagStore, metrics: TaggerMetrics
) -> None:
    """Emit nothing for a withdrawn activity; remember it so that replays skip it too."""
    assert isinstance(event, ActivityRegistered | ActivityUpdated | ActivityWithdrawn)
    await store.record_withdrawn(event.activity_id, event.version)
    metrics.verdict("withdrawn")
