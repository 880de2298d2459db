"""partner-feed's OpenAPI 3.1 document, built in code."""

from __future__ import annotations

from functools import cache
from typing import Any

from services.partner_feed.partners import FORMATS
from shared import document_view, openapi_document, problem_doc
from shared import json_response_doc as _json

__all__ = ["document", "openapi_view"]


def _param(name: str, where: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema or {"type": "string"},
    }


_PARTNER = _param("partner_id", "path", "Partner id as configured")
_AUTH_ERRORS = {"401": problem_doc("No valid API key for this partner")}
_FEED_PARAMS = [
    _param("since", "query", "Cursor from X-Next-Cursor: only changes after it, withdrawn "
           "activities included (status cancelled)", pattern="^[0-9]+$"),
    _param("country", "query", "ISO 3166-1 alpha-2; repeat or comma-separate for OR"),
    _param("community", "query", "Regional community code (EAC, ECOWAS, ...)"),
    _param("sdg", "query", "SDG goal 1-17, curated or computed"),
    _param("category", "query", "TA category"),
    _param("If-None-Match", "header", "ETag of a previous response: 304 when unchanged"),
]  # fmt: skip
_FEED_HEADERS = {
    "ETag": {"schema": {"type": "string"}},
    "X-Next-Cursor": {"description": "Pass as since= to get what changed after this response",
                      "schema": {"type": "string"}},
}  # fmt: skip


def _feed(summary: str, media: str) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": _FEED_PARAMS,
            "responses": {
                "200": {
                    "description": "The feed, streamed",
                    "headers": _FEED_HEADERS,
                    "content": {media: {"schema": {"type": "string"}}},
                },
                "304": {"description": "Not modified since the ETag given"},
                "400": problem_doc("Invalid filter or cursor"),
            },
        }
    }


@cache
def document() -> dict[str, Any]:
    return openapi_document(
        title="ta-bridge partner-feed",
        description="Partner imports (upload and scheduled pull) with per-record "
        "reports, reconciliation with WIPO activities, and outbound IATI 2.03 / TFM feeds.",
        server="http://127.0.0.1:8082",
        security_schemes={"partnerKey": {"type": "http", "scheme": "bearer"}},
        paths={
            "/v1/imports": {
                "post": {
                    "summary": "Upload a partner export (streamed; gzip accepted)",
                    "security": [{"partnerKey": []}],
                    "parameters": [
                        {**_param("partner", "query", "Partner id"), "required": True},
                        _param("format", "query", "Input format", enum=list(FORMATS)),
                        _param("wait", "query", "true: answer with the finished report"),
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                    },
                    "responses": {
                        "201": _json("The finished import report (wait=true)"),
                        "202": _json("Import started; the report is at Location"),
                        "400": problem_doc("Missing partner or unknown format"),
                        "413": problem_doc("Body larger than the upload limit"),
                        "422": problem_doc("Regional format without a column mapping"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/v1/imports/{import_id}": {
                "get": {
                    "summary": "An import report: progress while it runs, counts, findings, "
                    "quarantined records, fatal error, held removals",
                    "security": [{"partnerKey": []}],
                    "parameters": [
                        _param("import_id", "path", "Import id"),
                        _param("limit", "query", "Entries per list (1-10000)", type="integer"),
                    ],
                    "responses": {
                        "200": _json("The report"),
                        "404": problem_doc("No such import for this partner"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/v1/imports/{import_id}/held-removals": {
                "post": {
                    "summary": "Apply or discard the removals the removal guard held "
                    "(operator key)",
                    "security": [{"operatorKey": []}],
                    "parameters": [_param("import_id", "path", "Import id")],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["decision"],
                                    "properties": {
                                        "decision": {"type": "string", "enum": ["apply", "discard"]}
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json("The import report after the decision"),
                        "403": problem_doc("No operator key configured"),
                        "404": problem_doc("No such import"),
                        "409": problem_doc("The import has no removals waiting for a decision"),
                        "422": problem_doc("Decision missing or not apply / discard"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/v1/partners/{partner_id}/discrepancies": {
                "get": {
                    "summary": "Where linked partner records disagree with WIPO activities",
                    "security": [{"partnerKey": []}],
                    "parameters": [_PARTNER],
                    "responses": {"200": _json("Discrepancies"), **_AUTH_ERRORS},
                }
            },
            "/v1/partners/{partner_id}/quality": {
                "get": {
                    "summary": "Validation findings of the partner's latest import, by IATI "
                    "Validator rule id, with the partner's quarantine policy",
                    "security": [{"partnerKey": []}],
                    "parameters": [_PARTNER],
                    "responses": {"200": _json("Findings by rule"), **_AUTH_ERRORS},
                }
            },
            "/v1/partners/{partner_id}/links": {
                "get": {
                    "summary": "Partner records linked to WIPO activities",
                    "security": [{"partnerKey": []}],
                    "parameters": [_PARTNER],
                    "responses": {"200": _json("Links"), **_AUTH_ERRORS},
                }
            },
            "/v1/partners/{partner_id}/pull": {
                "post": {
                    "summary": "Pull the partner's configured URL now (conditional GET)",
                    "security": [{"partnerKey": []}],
                    "parameters": [_PARTNER],
                    "responses": {
                        "200": _json("The pull outcome"),
                        "409": problem_doc("No URL configured"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/v1/feeds/iati.xml": _feed("WIPO activities as IATI 2.03 XML", "application/xml"),
            "/v1/feeds/tfm.json": _feed(
                "WIPO activities as TFM records (JSON)", "application/json"
            ),
            "/v1/feeds/tfm.csv": _feed("WIPO activities as TFM records (CSV)", "text/csv"),
        },
    )


openapi_view = document_view(document)
