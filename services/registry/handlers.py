"""Event handlers of the registry: it follows the tagger's results."""

from __future__ import annotations

from services.registry.db.computed_tags import ComputedTagTable
from shared import Event, MessageContext
from shared.events import SdgTagsAssigned


async def handle_sdg_tags(event: Event, ctx: MessageContext, *, table: ComputedTagTable) -> None:
    """Keep the latest computed tags per activity (older activity versions never win)."""
    assert isinstance(event, SdgTagsAssigned)
    await table.save(event)
