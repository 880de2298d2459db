"""The registry's OpenAPI 3.1 document, built from the same models the API validates with."""

from __future__ import annotations

from functools import cache
from typing import Any

from services.registry.views import WithdrawRequest
from shared import (
    body_doc,
    component_schemas,
    document_view,
    json_response_doc,
    openapi_document,
    problem_doc,
    ref,
)
from shared.domain import Activity, ActivityFields

__all__ = ["document", "openapi_view"]


def _json(name: str, description: str) -> dict[str, Any]:
    return json_response_doc(description, ref(name))


def _op(summary: str, scope: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    errors = {
        "401": problem_doc("No valid API key"),
        "403": problem_doc(f"The key lacks the '{scope}' scope"),
    }
    return {
        "summary": summary,
        "security": [{"apiKey": [scope]}],
        "responses": {**responses, **errors},
        **extra,
    }


ID = {
    "name": "activity_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^TA-[0-9]{4}-[0-9]{6}$"},
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "schema": {"type": "string"},
    "description": "The ETag you read",
}
FILTERS = [
    {"name": name, "in": "query", "schema": {"type": "string"}, "description": text}
    for name, text in (
        ("country", "ISO 3166-1 alpha-2; repeat or comma-separate for OR"),
        ("community", "Regional community code, e.g. EAC"),
        ("category", "TA category"),
        ("stage", "TA-cycle stage"),
        ("status", "Activity status"),
        ("sdg", "SDG goal 1-17 (curated or computed)"),
        ("da", "Development Agenda recommendation 1-45"),
        ("partner", "Partner name or reference"),
        ("starts_from", "date"),
        ("starts_to", "date"),
        ("ends_from", "date"),
        ("ends_to", "date"),
        ("updated_since", "RFC 3339 timestamp"),
        ("q", "Text in title or description"),
        ("include_withdrawn", "true (default) or false"),
        ("limit", "1-500, default 50"),
        ("cursor", "next_cursor of the previous page"),
    )
]


@cache
def document() -> dict[str, Any]:
    """The document (built once per process; it depends on code only)."""
    schemas = component_schemas(ActivityFields, Activity, WithdrawRequest)
    schemas["ActivityPage"] = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": ref("Activity")},
            "next_cursor": {"type": ["string", "null"]},
        },
    }
    body = body_doc(ref("ActivityFields"))
    one = _json("Activity", "The activity (with ETag)")
    return openapi_document(
        title="ta-bridge registry",
        description="The system of record for WIPO technical-assistance activities.",
        server="http://127.0.0.1:8081",
        schemas=schemas,
        security_schemes={
            "apiKey": {
                "type": "http",
                "scheme": "bearer",
                "description": "API key with scopes read, write or admin",
            }
        },
        paths={
            "/v1/activities": {
                "post": _op(
                    "Register an activity",
                    "write",
                    {"201": one, "422": problem_doc("Invalid fields, with a JSON pointer each")},
                    requestBody=body,
                    parameters=[
                        {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}
                    ],
                ),
                "get": _op(
                    "List activities",
                    "read",
                    {"200": _json("ActivityPage", "A page")},
                    parameters=FILTERS,
                ),
            },
            "/v1/activities/{activity_id}": {
                "get": _op(
                    "Read an activity",
                    "read",
                    {
                        "200": one,
                        "304": {"description": "Not modified"},
                        "404": problem_doc("Unknown id"),
                    },
                    parameters=[ID],
                ),
                "put": _op(
                    "Replace an activity",
                    "write",
                    {
                        "200": one,
                        "412": problem_doc("Stale If-Match"),
                        "428": problem_doc("If-Match missing"),
                    },
                    parameters=[ID, IF_MATCH],
                    requestBody=body,
                ),
                "patch": _op(
                    "Update with a JSON merge patch",
                    "write",
                    {"200": one, "412": problem_doc("Stale If-Match")},
                    parameters=[ID, IF_MATCH],
                    requestBody={
                        "required": True,
                        "content": {"application/merge-patch+json": {"schema": {"type": "object"}}},
                    },
                ),
            },
            "/v1/activities/{activity_id}/withdraw": {
                "post": _op(
                    "Withdraw an activity",
                    "write",
                    {"200": one, "409": problem_doc("Already withdrawn")},
                    parameters=[ID, IF_MATCH],
                    requestBody={
                        "required": True,
                        "content": {"application/json": {"schema": ref("WithdrawRequest")}},
                    },
                ),
            },
            "/v1/activities/{activity_id}/history": {
                "get": _op(
                    "Every version: who, when, which fields",
                    "read",
                    {"200": {"description": "The history"}},
                    parameters=[ID],
                )
            },
            "/v1/activities/{activity_id}/versions/{version}": {
                "get": _op(
                    "A past version",
                    "read",
                    {"200": one},
                    parameters=[
                        ID,
                        {
                            "name": "version",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        },
                    ],
                ),
            },
            "/v1/activities/bulk": {
                "post": _op(
                    "Bulk import (JSON lines or CSV)",
                    "write",
                    {
                        "200": {"description": "Import report"},
                        "422": {"description": "Atomic import refused; report"},
                    },
                    parameters=[
                        {"name": "mode", "in": "query", "schema": {"enum": ["atomic", "per_row"]}}
                    ],
                    requestBody={
                        "required": True,
                        "content": {"application/x-ndjson": {}, "text/csv": {}},
                    },
                ),
            },
            "/v1/admin/outbox": {
                "get": _op("Outbox backlog", "admin", {"200": {"description": "Backlog"}})
            },
            "/v1/admin/keys": {
                "get": _op(
                    "API keys (names and scopes, never the keys)",
                    "admin",
                    {"200": {"description": "Keys"}},
                )
            },
        },
    )


openapi_view = document_view(document)
