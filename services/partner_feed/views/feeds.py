"""The outbound feeds: `/v1/feeds/iati.xml`, `/v1/feeds/tfm.json`, `/v1/feeds/tfm.csv`.

Rendered from the feed view as streamed responses, one activity at a time, from one
consistent read snapshot. A full feed (no `since`) holds the active activities; an
incremental one (`since=<cursor>`) holds every activity changed after the cursor,
withdrawn ones included with status cancelled (IATI 5, TFM `cancelled`). The next cursor
is the `X-Next-Cursor` header (also in `Link: rel="next"`). `If-None-Match` → 304.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from services.partner_feed.db.feed import iter_rows, last_seq
from services.partner_feed.feed_mapping import to_feed_activity
from services.partner_feed.feed_query import FeedQuery, etag_matches
from services.partner_feed.formats import FeedActivity, to_tfm
from services.partner_feed.formats.iati_writer import DOCUMENT_END, activity_bytes, document_start
from services.partner_feed.formats.tfm_writer import tfm_csv_header, tfm_csv_row, tfm_json_item
from services.partner_feed.state import CODELISTS, FEED_STORE, METRICS, PUBLISHER_ORG
from shared.domain import Activity


@dataclass(frozen=True, slots=True)
class _Feed:
    name: str
    content_type: str
    head: Callable[[datetime], bytes]
    item: Callable[[FeedActivity, int], bytes]
    tail: bytes


def _tfm_json_item(activity: FeedActivity, index: int) -> bytes:
    return (b",\n" if index else b"\n") + tfm_json_item(to_tfm(activity))


FEEDS = {
    "iati.xml": _Feed(
        "iati.xml", "application/xml", document_start, lambda a, _: activity_bytes(a), DOCUMENT_END
    ),
    "tfm.json": _Feed("tfm.json", "application/json", lambda _: b"[", _tfm_json_item, b"\n]\n"),
    "tfm.csv": _Feed(
        "tfm.csv", "text/csv", lambda _: tfm_csv_header(), lambda a, _: tfm_csv_row(to_tfm(a)), b""
    ),
}


async def feed_view(request: web.Request) -> web.StreamResponse:
    feed = FEEDS[request.match_info["feed"]]
    query = FeedQuery.parse(request.query, {k: request.query.getall(k) for k in request.query})
    app = request.app
    publisher = app[PUBLISHER_ORG]
    async with app[FEED_STORE].reader() as db:
        await db.execute("BEGIN")  # one read snapshot for the cursor and every row
        upto = await last_seq(db)
        etag = query.etag(feed.name, upto, publisher.ref)
        headers = {
            "ETag": etag,
            "X-Next-Cursor": str(upto),
            "Link": f'<{request.path}?since={upto}>; rel="next"',
            "Cache-Control": "no-cache",
        }
        if etag_matches(request.headers.get("If-None-Match"), etag):
            return web.Response(status=304, headers=headers)
        response = web.StreamResponse(headers=headers)
        response.content_type = feed.content_type
        response.charset = "utf-8"
        await response.prepare(request)
        generated = datetime.now(UTC)
        await response.write(feed.head(generated))
        lists, metrics = app[CODELISTS], app[METRICS]
        written = 0
        async for row in iter_rows(db, since=query.since or 0, upto=upto):
            if row.withdrawn and query.since is None:
                continue
            activity = Activity.model_validate_json(row.state)
            if not query.matches(activity, row.computed_goals, lists, row.computed_targets):
                continue
            published = to_feed_activity(
                activity,
                publisher,
                computed_goals=row.computed_goals,
                computed_targets=row.computed_targets,
                today=generated.date(),
            )
            if published is None:
                metrics.unpublishable.labels(feed.name).inc()
                continue
            await response.write(feed.item(published, written))
            written += 1
        await db.rollback()
    metrics.feed_items.labels(feed.name).inc(written)
    await response.write(feed.tail)
    await response.write_eof()
    return response


def add_feed_routes(app: web.Application) -> None:
    app.router.add_get("/v1/feeds/{feed:iati\\.xml|tfm\\.json|tfm\\.csv}", feed_view)
