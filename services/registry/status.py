"""What the registry adds to `GET /v1/status`: the outbox backlog and its oldest entry's age.

A backlog that is old means the relay cannot publish (Kafka down, or the relay stopped):
changes are safe in the database but nobody downstream hears of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web

from services.registry.settings import RegistrySettings
from services.registry.state import OUTBOX
from shared import StatusDetails, Transport, add_status_route, dlq_topic, offset_reader
from shared.events import SDG_TAGS, namespaced

#: An unpublished change older than this is reported as a warning.
STALE_AFTER_SECONDS = 60.0


def outbox_details(
    clock: Callable[[], datetime] | None = None, *, stale_after: float = STALE_AFTER_SECONDS
) -> Callable[[web.Application], Awaitable[StatusDetails]]:
    """The details source of the registry's status view."""
    now = clock or (lambda: datetime.now(UTC))

    async def details(app: web.Application) -> StatusDetails:
        backlog, oldest = await app[OUTBOX].backlog()
        age = None
        if oldest is not None:
            written = datetime.fromisoformat(oldest.replace("Z", "+00:00"))
            age = max(0.0, (now() - written).total_seconds())
        warnings = []
        if age is not None and age > stale_after:
            warnings.append(f"outbox: {backlog} change(s) unpublished, the oldest for {age:.0f}s")
        return StatusDetails(
            {
                "outbox": {
                    "backlog": backlog,
                    "oldest_unpublished_at": oldest,
                    "oldest_unpublished_age_seconds": None if age is None else round(age, 3),
                }
            },
            warnings,
        )

    return details


def add_registry_status(
    app: web.Application,
    settings: RegistrySettings,
    kafka: Transport,
    clock: Callable[[], datetime] | None = None,
) -> None:
    """`GET /v1/status`: the tags consumer's lag (its retry topic too), its DLQ, and the
    outbox."""
    tags_topic = namespaced(SDG_TAGS, settings.topic_namespace)
    add_status_route(
        app,
        service="registry",
        reader=offset_reader(kafka),
        groups=settings.group_reads(settings.consumer_group, [tags_topic]),
        dlq_topics=[dlq_topic(tags_topic)],
        details=outbox_details(clock),
    )
