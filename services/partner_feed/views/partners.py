"""Per-partner reports: `GET /v1/partners/{id}/discrepancies` (and the links behind it),
`POST /v1/partners/{id}/pull` to pull a configured source now."""

from __future__ import annotations

from aiohttp import web

from services.partner_feed.auth import authenticate
from services.partner_feed.db.links import read_links
from services.partner_feed.state import IMPORT_STORE, PARTNERS, PULLER
from shared import ProblemError, json_response


async def discrepancies(request: web.Request) -> web.Response:
    partner = authenticate(request, request.app[PARTNERS], request.match_info["partner_id"])
    async with request.app[IMPORT_STORE].reader() as db:
        links = await read_links(db, partner.id)
    items = [
        {
            "record_id": link.record_id,
            "activity_id": link.activity_id,
            "confidence": link.confidence,
            "method": link.method,
            **item,
        }
        for link in links
        for item in link.discrepancies
    ]
    return json_response(
        {
            "partner": partner.id,
            "linked_records": len(links),
            "records_with_discrepancies": len({i["record_id"] for i in items}),
            "discrepancies": items,
        }
    )


async def links(request: web.Request) -> web.Response:
    partner = authenticate(request, request.app[PARTNERS], request.match_info["partner_id"])
    async with request.app[IMPORT_STORE].reader() as db:
        found = await read_links(db, partner.id)
    return json_response(
        {
            "partner": partner.id,
            "links": [
                {
                    "record_id": link.record_id,
                    "activity_id": link.activity_id,
                    "confidence": link.confidence,
                    "method": link.method,
                }
                for link in found
            ],
        }
    )


async def pull_now(request: web.Request) -> web.Response:
    partner = authenticate(request, request.app[PARTNERS], request.match_info["partner_id"])
    if not partner.url:
        raise ProblemError(409, "no_source_url", "Nothing to pull", "no URL is configured")
    outcome = await request.app[PULLER].pull(partner)
    return json_response(outcome.as_json())


def add_partner_routes(app: web.Application) -> None:
    app.router.add_get("/v1/partners/{partner_id}/discrepancies", discrepancies)
    app.router.add_get("/v1/partners/{partner_id}/links", links)
    app.router.add_post("/v1/partners/{partner_id}/pull", pull_now)
