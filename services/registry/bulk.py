"""Bulk import (`POST /v1/activities/bulk`): JSON lines or CSV, all-or-nothing or per row.

Every row is validated first. `mode=atomic` writes all rows in one transaction or, if any
row is rejected, none (HTTP 422 with the report). `mode=per_row` writes the valid rows and
reports the rejected ones. The report names every rejected row and each fault in it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from services.registry.auth import PRINCIPAL, ScopedRoutes
from services.registry.bulk_rows import Row, csv_rows, json_lines
from services.registry.db.outbox import OutboxRecord
from services.registry.settings import RegistrySettings
from services.registry.state import COMMANDS, DB, RELAY, SETTINGS
from shared import Fault, InvalidInput, ProblemError, faults_of, json_response, read_body
from shared.domain import ActivityFields

MEDIA = {
    "application/x-ndjson": json_lines,
    "application/jsonl": json_lines,
    "application/json-lines": json_lines,
    "text/csv": csv_rows,
}
_WRITE_BATCH = 500


def _validate(
    rows: list[Row], request: web.Request
) -> tuple[list[tuple[int, ActivityFields]], list[dict[str, Any]]]:
    commands = request.app[COMMANDS]
    good: list[tuple[int, ActivityFields]] = []
    rejected: list[dict[str, Any]] = []
    for number, document, parse_faults in rows:
        faults = parse_faults
        if document is not None and not faults:
            try:
                good.append((number, commands.checked(ActivityFields.model_validate(document))))
                continue
            except ValidationError as exc:
                faults = faults_of(exc)
            except InvalidInput as exc:
                faults = list(exc.faults)
        rejected.append(
            {
                "row": number,
                "errors": [{"pointer": f.pointer, "message": f.message} for f in faults],
            }
        )
    return good, rejected


async def bulk_import(request: web.Request) -> web.Response:
    settings: RegistrySettings = request.app[SETTINGS]
    mode = request.query.get("mode", "per_row")
    if mode not in {"atomic", "per_row"}:
        raise InvalidInput("bad mode", [Fault("/query/mode", "atomic or per_row")])
    parse = MEDIA.get(request.content_type)
    if parse is None:
        raise ProblemError(
            415,
            "unsupported_media_type",
            "Unsupported media type",
            f"send one of {sorted(MEDIA)}, not {request.content_type!r}",
        )
    body = await read_body(request, settings.bulk_max_bytes)
    rows = list(parse(body))
    if len(rows) > settings.bulk_max_rows:
        raise ProblemError(
            413,
            "too_many_rows",
            "Too many rows",
            f"at most {settings.bulk_max_rows} rows per import",
        )
    good, rejected = _validate(rows, request)
    report: dict[str, Any] = {"mode": mode, "rows": len(rows), "rejected": rejected, "created": []}
    if mode == "atomic" and rejected:
        report["outcome"] = "nothing written: at least one row was rejected"
        return json_response(report, status=422)
    actor = request[PRINCIPAL].name
    commands = request.app[COMMANDS]
    batch = len(good) if mode == "atomic" else _WRITE_BATCH
    for start in range(0, len(good), max(batch, 1)):
        written: list[OutboxRecord] = []
        async with request.app[DB].transaction() as conn:
            for number, fields in good[start : start + batch]:
                activity = await commands.create_in(conn, fields, actor=actor, written=written)
                report["created"].append({"row": number, "id": activity.id})
        request.app[RELAY].handed(written)
    report["outcome"] = f"{len(good)} created, {len(rejected)} rejected"
    return json_response(report, status=200)


def add_bulk_routes(routes: ScopedRoutes, settings: RegistrySettings) -> None:
    routes.add("POST", "/v1/activities/bulk", bulk_import, "write")
