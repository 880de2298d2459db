"""`GET /v1/partners/{id}/quality`: what validation found in the partner's latest import.

Findings grouped by IATI Validator rule id (or our own finding code), with severity, how
many records carry them, whether they quarantined a record, and a few record ids to look
at; the partner's quarantine policy alongside. Built from the latest import's report
entries, so it shows exactly what the import report and the `partner.record.*` events
carried.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from services.partner_feed.auth import authenticate
from services.partner_feed.db.imports import read_entries, read_latest_imports
from services.partner_feed.state import IMPORT_STORE, PARTNERS
from shared import json_response

MAX_ENTRIES = 10_000
EXAMPLES = 5
_ORDER = {"critical": 0, "error": 1, "warning": 2}


def summarise(entries: list[tuple[bool, dict[str, Any]]]) -> list[dict[str, Any]]:
    """(accepted, report entry) pairs → one group per rule id / code, worst first."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for accepted, entry in entries:
        ref = entry.get("record_id") or entry.get("ref")
        seen: set[tuple[str, str]] = set()
        for finding in entry.get("findings", ()):
            key = (finding.get("rule") or finding["code"], finding["severity"])
            group = groups.setdefault(
                key,
                {
                    "rule": finding.get("rule"),
                    "code": finding["code"],
                    "severity": finding["severity"],
                    "message": finding["message"],
                    "occurrences": 0,
                    "records": 0,
                    "quarantined_records": 0,
                    "examples": [],
                },
            )
            group["occurrences"] += 1
            if key in seen:
                continue
            seen.add(key)
            group["records"] += 1
            group["quarantined_records"] += 0 if accepted else 1
            if len(group["examples"]) < EXAMPLES and ref:
                group["examples"].append(ref)
    return sorted(groups.values(), key=lambda g: (_ORDER[g["severity"]], -g["records"]))


async def quality(request: web.Request) -> web.Response:
    partner = authenticate(request, request.app[PARTNERS], request.match_info["partner_id"])
    async with request.app[IMPORT_STORE].reader() as db:
        latest = (await read_latest_imports(db)).get(partner.id)
        entries: list[tuple[bool, dict[str, Any]]] = []
        if latest is not None:
            for accepted in (False, True):
                rows = await read_entries(
                    db, latest["report_id"], accepted=accepted, limit=MAX_ENTRIES
                )
                entries += [(accepted, row) for row in rows]
    return json_response(
        {
            "partner": partner.id,
            "policy": partner.quarantine.model_dump(mode="json"),
            "import": latest,
            "findings": summarise(entries),
        }
    )


def add_quality_routes(app: web.Application) -> None:
    app.router.add_get("/v1/partners/{partner_id}/quality", quality)
