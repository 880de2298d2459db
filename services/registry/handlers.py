"""Event handlers of the registry: it follows the tagger's results."""

from __future__ import annotations

from collections.abc import Sequence

from services.registry.db.computed_tags import ComputedTagTable
from shared import Event, MessageContext
from shared.events import SdgTagsAssigned


async def handle_sdg_tags_run(
    batch: Sequence[tuple[Event, MessageContext]], *, table: ComputedTagTable
) -> None:
    """Keep the latest computed tags per activity (older activity versions never win), for a
    run of one partition's events in one transaction (saving is idempotent, so a run handed
    over again one by one does no harm)."""
    results: list[SdgTagsAssigned] = []
    for event, _ in batch:
        assert isinstance(event, SdgTagsAssigned)
        results.append(event)
    await table.save_many(results)
