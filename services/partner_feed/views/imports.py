"""Uploads and their reports: `POST /v1/imports`, `GET /v1/imports/{id}`.

The body is streamed to a temporary file under the upload limit (413 past it; gzip
accepted, as `Content-Encoding` or as a gzip file), then imported in the background.
The answer is `202 Accepted` with the report's `Location`; with `wait=true` the request
waits and answers `201 Created` with the report itself. While an import runs its report
carries `progress` (records and bytes read, events published). Removals the removal guard
held (`status: held`) are applied or discarded by an operator: `POST
/v1/imports/{id}/held-removals`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from services.partner_feed.auth import authenticate, caller, operator
from services.partner_feed.db.imports import read_entries, read_import
from services.partner_feed.partners import FORMATS, REGIONAL
from services.partner_feed.pipeline import NotHeld
from services.partner_feed.spool import spool
from services.partner_feed.state import IMPORT_STORE, IMPORTS, PARTNERS, SETTINGS
from shared import Fault, InvalidQuery, ProblemError, json_response


def _bad_query(name: str, message: str) -> InvalidQuery:
    return InvalidQuery(message, [Fault(f"/query/{name}", message)])


async def upload(request: web.Request) -> web.Response:
    app = request.app
    settings = app[SETTINGS]
    partner_id = request.query.get("partner", "")
    if not partner_id:
        raise _bad_query("partner", "give the partner id: ?partner=<id>")
    partner = authenticate(request, app[PARTNERS], partner_id)
    format_name = request.query.get("format", partner.format)
    source_format = FORMATS.get(format_name)
    if source_format is None:
        raise _bad_query("format", f"format must be one of {', '.join(FORMATS)}")
    if source_format in REGIONAL and partner.mapping is None:
        raise ProblemError(
            422,
            "no_regional_mapping",
            "No column mapping",
            f"partner {partner.id!r} has no regional column mapping configured",
        )
    path, size = await spool(
        request.content.iter_chunked(64 * 1024),
        limit=settings.upload_max_bytes,
        directory=settings.upload_dir,
    )
    runner = app[IMPORTS]
    import_id = await runner.submit(
        partner=partner, source_format=source_format, channel="upload", path=path, size=size
    )
    location = f"/v1/imports/{import_id}"
    if request.query.get("wait", "").lower() in {"1", "true", "yes"}:
        await runner.wait(import_id)
        report = await _report(request, import_id, limit=1000)
        return json_response(report, status=201, headers={"Location": location})
    return json_response(
        {"id": import_id, "status": "running", "report": location},
        status=202,
        headers={"Location": location},
    )


async def _report(request: web.Request, import_id: str, *, limit: int) -> dict[str, Any]:
    async with request.app[IMPORT_STORE].reader() as db:
        found = await read_import(db, import_id)
        if found is None:
            raise ProblemError(404, "not_found", "Not found", f"no import {import_id}")
        found["quarantined"] = await read_entries(db, import_id, accepted=False, limit=limit)
        found["warnings"] = await read_entries(db, import_id, accepted=True, limit=limit)
    return found


async def get_import(request: web.Request) -> web.Response:
    partner = caller(request, request.app[PARTNERS])
    raw = request.query.get("limit", "1000")
    if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        raise _bad_query("limit", "limit must be 1-10000")
    report = await _report(request, request.match_info["import_id"], limit=int(raw))
    if report["partner"] != partner.id:
        raise ProblemError(404, "not_found", "Not found", "no such import for this partner")
    return json_response(report)


async def decide_held_removals(request: web.Request) -> web.Response:
    """`POST /v1/imports/{id}/held-removals` `{"decision": "apply" | "discard"}`, operator
    key only: publish (or drop) the removals the removal guard held."""
    operator(request)
    import_id = request.match_info["import_id"]
    try:
        body = await request.json()
    except ValueError:
        body = None
    decision = body.get("decision") if isinstance(body, dict) else None
    if decision not in ("apply", "discard"):
        raise ProblemError(
            422,
            "invalid_decision",
            "Invalid decision",
            'send {"decision": "apply"} or {"decision": "discard"}',
            faults=[Fault("/decision", "must be 'apply' or 'discard'")],
        )
    async with request.app[IMPORT_STORE].reader() as db:
        found = await read_import(db, import_id)
    if found is None:
        raise ProblemError(404, "not_found", "Not found", f"no import {import_id}")
    try:
        await request.app[IMPORTS].decide(import_id, found["partner"], decision)
    except NotHeld:
        raise ProblemError(
            409,
            "not_held",
            "Nothing held",
            f"import {import_id} has no removals waiting for a decision "
            f"(status {found['status']!r})",
        ) from None
    return json_response(await _report(request, import_id, limit=1000))


def add_import_routes(app: web.Application) -> None:
    app.router.add_post("/v1/imports", upload)
    app.router.add_get("/v1/imports/{import_id}", get_import)
    app.router.add_post("/v1/imports/{import_id}/held-removals", decide_held_removals)
