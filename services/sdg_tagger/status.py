"""What sdg-tagger adds to `GET /v1/status`: the id of the model it tags with.

A model upgrade changes the id; re-tag by replaying (`python -m services.sdg_tagger.replay`).
"""

from __future__ import annotations

from aiohttp import web

from services.sdg_tagger.settings import TaggerSettings
from services.sdg_tagger.state import TAGGER
from shared import StatusDetails, Transport, add_status_route, dlq_topic, offset_reader
from shared.events import ACTIVITY_EVENTS, namespaced


async def model_details(app: web.Application) -> StatusDetails:
    """The details source of the tagger's status view."""
    return StatusDetails({"model_id": app[TAGGER].model_id})


def add_tagger_status(
    app: web.Application,
    settings: TaggerSettings,
    kafka: Transport,
    *,
    group_id: str,
    retry: str | None,
) -> None:
    """`GET /v1/status`: the activity consumer's lag (of `group_id`, on its `retry` topic
    too when it has its own), its DLQ, the model."""
    activities = namespaced(ACTIVITY_EVENTS, settings.topic_namespace)
    add_status_route(
        app,
        service="sdg-tagger",
        reader=offset_reader(kafka),
        groups={group_id: [activities] if retry is None else [activities, retry]},
        dlq_topics=[dlq_topic(activities)],
        details=model_details,
    )
