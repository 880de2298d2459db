"""What partner-feed adds to `GET /v1/status`: each partner's last import and last pull.

Every configured partner is listed, with `last_import: null` until it first imports;
partners that imported but are no longer configured are listed too. A last import that
failed is reported as a warning.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from services.partner_feed.db.imports import read_latest_imports
from services.partner_feed.db.pull_state import PullStateTable
from services.partner_feed.settings import FeedSettings
from services.partner_feed.state import IMPORT_STORE, PARTNERS
from shared import StatusDetails, Transport, add_status_route, dlq_topic, offset_reader
from shared.events import ACTIVITY_EVENTS, SDG_TAGS, namespaced


async def import_details(app: web.Application) -> StatusDetails:
    """The details source of partner-feed's status view."""
    configured = {p.id: p for p in app[PARTNERS].all()}
    async with app[IMPORT_STORE].reader() as db:
        latest = await read_latest_imports(db)
        pulls = PullStateTable(db)
        pulled = {pid: await pulls.get(pid) for pid, p in configured.items() if p.url}
    partners: list[dict[str, Any]] = []
    warnings: list[str] = []
    for partner_id in sorted(configured.keys() | latest.keys()):
        last = latest.get(partner_id)
        pull = pulled.get(partner_id)
        partners.append(
            {
                "partner": partner_id,
                "configured": partner_id in configured,
                "last_import": last,
                "last_pull": None
                if pull is None
                else {"checked_at": pull.checked_at, "outcome": pull.outcome},
            }
        )
        if last is not None and last["status"] not in {"completed", "running"}:
            warnings.append(
                f"partner {partner_id}: last import {last['report_id']} {last['status']}"
            )
    return StatusDetails({"partners": partners}, warnings)


def add_feed_status(app: web.Application, settings: FeedSettings, kafka: Transport) -> None:
    """`GET /v1/status`: the feed-view consumer's lag (its retry topic too), its DLQs, and
    the imports."""
    ns = settings.topic_namespace
    consumed = [namespaced(ACTIVITY_EVENTS, ns), namespaced(SDG_TAGS, ns)]
    add_status_route(
        app,
        service="partner-feed",
        reader=offset_reader(kafka),
        groups=settings.group_reads(settings.consumer_group, consumed),
        dlq_topics=[dlq_topic(t) for t in consumed],
        details=import_details,
    )
