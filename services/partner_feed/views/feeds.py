"""The outbound feeds: `/v1/feeds/iati.xml`, `/v1/feeds/tfm.json`, `/v1/feeds/tfm.csv`.

Rendered from the feed view, one activity at a time, from one consistent read snapshot,
into a spooled buffer that is sent once complete (with `Content-Length`): a fault answers a
problem before the first byte, never a half document. A stored activity that cannot be
rendered is left out, counted in `X-Feed-Skipped` and logged.

A full feed (no `since`) holds the active activities; an
incremental one (`since=<cursor>`) holds every activity changed after the cursor,
withdrawn ones included with status cancelled (IATI 5, TFM `cancelled`). The next cursor
is the `X-Next-Cursor` header (also in `Link: rel="next"`). `If-None-Match` → 304.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

import aiosqlite
from aiohttp import web
from pydantic import ValidationError

from services.partner_feed.db.feed import iter_rows, last_seq
from services.partner_feed.feed_mapping import to_feed_activity
from services.partner_feed.feed_query import FeedQuery, etag_matches
from services.partner_feed.formats import FeedActivity, to_tfm
from services.partner_feed.formats.iati_writer import DOCUMENT_END, activity_bytes, document_start
from services.partner_feed.formats.tfm_writer import tfm_csv_header, tfm_csv_row, tfm_json_item
from services.partner_feed.state import CODELISTS, FEED_STORE, METRICS, PUBLISHER_ORG
from shared import LOGGER
from shared.domain import Activity

_SPOOL_IN_MEMORY = 8 * 1024 * 1024
_SEND_CHUNK = 256 * 1024


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
    # Built in full (in memory up to a few MB, then on disk), then sent: a fault while
    # rendering answers a problem before the first byte, never a truncated document.
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY) as body:
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
                await db.rollback()
                return web.Response(status=304, headers=headers)
            body.write(feed.head(datetime.now(UTC)))
            written, skipped = await _render_rows(request, feed, query, db, upto, body)
            await db.rollback()
        body.write(feed.tail)
        app[METRICS].feed_items.labels(feed.name).inc(written)
        headers["X-Feed-Items"] = str(written)
        headers["X-Feed-Skipped"] = str(skipped)
        size = body.tell()
        body.seek(0)
        response = web.StreamResponse(headers=headers)
        response.content_type = feed.content_type
        response.charset = "utf-8"
        response.content_length = size
        await response.prepare(request)
        while chunk := body.read(_SEND_CHUNK):
            await response.write(chunk)
    await response.write_eof()
    return response


async def _render_rows(
    request: web.Request,
    feed: _Feed,
    query: FeedQuery,
    db: aiosqlite.Connection,
    upto: int,
    out: IO[bytes],
) -> tuple[int, int]:
    """Render every matching row into `out`; (written, skipped as unrenderable)."""
    app = request.app
    lists, metrics, log = app[CODELISTS], app[METRICS], app[LOGGER]
    publisher = app[PUBLISHER_ORG]
    written = skipped = 0
    today = datetime.now(UTC).date()

    def leave_out(why: str, exc: Exception, **where: object) -> None:
        """One row left out and reported, so one bad record never breaks the feed."""
        nonlocal skipped
        skipped += 1
        metrics.unpublishable.labels(feed.name).inc()
        log.warning(
            f"feed row left out: {why}", feed=feed.name, error=str(exc).splitlines()[0], **where
        )

    async for row in iter_rows(db, since=query.since or 0, upto=upto):
        if row.withdrawn and query.since is None:
            continue
        try:
            activity = Activity.model_validate_json(row.state)
        except ValidationError as exc:  # stored before today's validation, or by a buggy writer
            leave_out("stored activity is invalid", exc, seq=row.seq)
            continue
        if not query.matches(activity, row.computed_goals, lists, row.computed_targets):
            continue
        published = to_feed_activity(
            activity,
            publisher,
            computed_goals=row.computed_goals,
            computed_targets=row.computed_targets,
            today=today,
        )
        if published is None:
            metrics.unpublishable.labels(feed.name).inc()
            continue
        try:
            item = feed.item(published, written)
        except (ValueError, ValidationError) as exc:
            leave_out("activity cannot be rendered", exc, activity_id=activity.id)
            continue
        out.write(item)
        written += 1
    return written, skipped


def add_feed_routes(app: web.Application) -> None:
    app.router.add_get("/v1/feeds/{feed:iati\\.xml|tfm\\.json|tfm\\.csv}", feed_view)
