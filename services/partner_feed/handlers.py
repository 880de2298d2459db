"""Event handlers of the feed view: activity changes and computed SDG tags.

Both are idempotent: an activity version or tag set already held changes nothing, so a
redelivered event is harmless and no de-duplication store is needed.
"""

from __future__ import annotations

from services.partner_feed.db.database import Store
from services.partner_feed.db.feed import FeedTable
from shared import Event, MessageContext
from shared.domain import Status
from shared.events import ActivityRegistered, ActivityUpdated, ActivityWithdrawn, SdgTagsAssigned


async def handle_activity(event: Event, ctx: MessageContext, *, store: Store) -> None:
    """Hold the newest version of each activity, withdrawn ones flagged."""
    assert isinstance(event, ActivityRegistered | ActivityUpdated | ActivityWithdrawn)
    state = event.state
    withdrawn = isinstance(event, ActivityWithdrawn) or state.status is Status.WITHDRAWN
    async with store.lock:
        await FeedTable(store.db).apply_activity(
            event.activity_id, event.version, withdrawn=withdrawn, state=state.model_dump_json()
        )
        await store.db.commit()


async def handle_sdg_tags(event: Event, ctx: MessageContext, *, store: Store) -> None:
    """Hold the computed goals and targets the tagger assigned (rejected ones are dropped)."""
    assert isinstance(event, SdgTagsAssigned)
    goals = [g.goal for g in event.kept_goals()]
    targets = [t.target for t in event.kept_targets()]
    async with store.lock:
        await FeedTable(store.db).apply_tags(
            event.activity_id, event.activity_version, goals, targets
        )
        await store.db.commit()
