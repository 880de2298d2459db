"""What the notifier adds to `GET /v1/status`: delivery outcomes per subscription.

A subscription with failed deliveries is reported as a warning (redrive them with
`POST /v1/subscriptions/{id}/redrive`, or `ta-bridge webhooks redrive`).
"""

from __future__ import annotations

from aiohttp import web

from shared import StatusDetails, Transport, add_status_route, dlq_topic, offset_reader
from shared.events import ACTIVITY_EVENTS, SDG_TAGS, WEBHOOK_DLQ, namespaced

from .settings import NotifierSettings
from .state import STORE


async def delivery_details(app: web.Application) -> StatusDetails:
    """The details source of the notifier's status view."""
    stats = await app[STORE].delivery_stats()
    warnings = [
        f"subscription {s.subscription_id}: {s.failed} failed deliveries" for s in stats if s.failed
    ]
    return StatusDetails({"subscriptions": [s.as_json() for s in stats]}, warnings)


def add_notifier_status(app: web.Application, settings: NotifierSettings, kafka: Transport) -> None:
    """`GET /v1/status`: the consumer's lag (its retry topic too), its DLQs and the webhook
    DLQ, the deliveries."""
    ns = settings.topic_namespace
    consumed = [namespaced(ACTIVITY_EVENTS, ns), namespaced(SDG_TAGS, ns)]
    add_status_route(
        app,
        service="notifier",
        reader=offset_reader(kafka),
        groups=settings.group_reads(settings.consumer_group, consumed),
        dlq_topics=[*(dlq_topic(t) for t in consumed), namespaced(WEBHOOK_DLQ, ns)],
        details=delivery_details,
    )
