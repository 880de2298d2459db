"""The subscription API's OpenAPI 3.1 document, built in code from the pydantic models.

Request schemas are the models the views validate with (``payloads``); the response models
below describe what ``subscription_json`` / ``attempt_json`` return, and a test validates
real responses against them so the two stay in step.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import models_json_schema

from shared import (
    body_doc,
    document_view,
    json_response_doc,
    openapi_document,
    problem_doc,
    ref,
)

from .payloads import CreateBody, FiltersBody, PatchBody, RedriveBody, RotateBody
from .views import PREFIX


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FiltersOut(_Out):
    countries: list[str]
    communities: list[str]
    sdgs: list[int]
    categories: list[str]
    partners: list[str]


class SubscriptionOut(_Out):
    id: str
    url: str
    event_types: list[str]
    filters: FiltersOut
    status: Literal["active", "paused", "disabled"]
    disabled_reason: str | None
    description: str
    created_at: str
    updated_at: str


class SubscriptionWithSecret(SubscriptionOut):
    """Returned on create and rotate only: the Standard Webhooks signing secret."""

    secret: str
    previous_secret_expires_at: str | None


class SubscriptionPage(_Out):
    items: list[SubscriptionOut]
    next_cursor: str | None


class AttemptOut(_Out):
    id: str
    delivery_id: str
    webhook_id: str
    number: int
    started_at: str
    outcome: Literal["delivered", "retry", "gone", "refused"]
    status_code: int | None
    latency_ms: int
    response_excerpt: str | None
    error: str | None


class AttemptPage(_Out):
    items: list[AttemptOut]


class RedriveOut(_Out):
    redriven: int
    webhook_ids: list[str]


_MODELS: tuple[type[BaseModel], ...] = (
    FiltersBody,
    CreateBody,
    PatchBody,
    RotateBody,
    RedriveBody,
    SubscriptionOut,
    SubscriptionWithSecret,
    SubscriptionPage,
    AttemptPage,
    RedriveOut,
)


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return ref(model.__name__)


def _json(description: str, model: type[BaseModel]) -> dict[str, Any]:
    return json_response_doc(description, _ref(model))


def _body(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    return body_doc(_ref(model), required=required)


_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_LIMIT = {
    "name": "limit",
    "in": "query",
    "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
}
_COMMON = {"401": problem_doc("No or unknown partner API key")}
_OWNED = {**_COMMON, "404": problem_doc("No such subscription for this partner")}
_INVALID = {"422": problem_doc("Invalid body or unsafe webhook target (with a pointer per fault)")}


def _operations() -> dict[str, Any]:
    return {
        PREFIX: {
            "post": {
                "summary": "Subscribe a webhook endpoint to event types, with filters",
                "requestBody": _body(CreateBody),
                "responses": {
                    "201": _json("Created; holds the signing secret", SubscriptionWithSecret),
                    **_COMMON,
                    **_INVALID,
                },
            },
            "get": {
                "summary": "The partner's subscriptions, by id, cursor-paginated",
                "parameters": [
                    _LIMIT,
                    {
                        "name": "cursor",
                        "in": "query",
                        "description": "next_cursor of the previous page",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {"200": _json("A page", SubscriptionPage), **_COMMON},
            },
        },
        PREFIX + "/{id}": {
            "parameters": [_ID],
            "get": {"responses": {"200": _json("The subscription", SubscriptionOut), **_OWNED}},
            "patch": {
                "summary": "Change URL, types, filters, description or status",
                "requestBody": _body(PatchBody),
                "responses": {
                    "200": _json("Changed", SubscriptionOut),
                    **_OWNED,
                    **_INVALID,
                },
            },
            "delete": {"responses": {"204": {"description": "Deleted"}, **_OWNED}},
        },
        PREFIX + "/{id}/secret/rotate": {
            "parameters": [_ID],
            "post": {
                "summary": "New signing secret; the old one keeps signing for the overlap",
                "requestBody": _body(RotateBody, required=False),
                "responses": {"200": _json("Rotated", SubscriptionWithSecret), **_OWNED},
            },
        },
        PREFIX + "/{id}/attempts": {
            "parameters": [_ID],
            "get": {
                "summary": "Delivery attempts, newest first",
                "parameters": [
                    _LIMIT,
                    {"name": "webhook_id", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {"200": _json("Attempts", AttemptPage), **_OWNED},
            },
        },
        PREFIX + "/{id}/redrive": {
            "parameters": [_ID],
            "post": {
                "summary": "Deliver again the failed deliveries (or all since a time), "
                "with the same webhook-ids",
                "requestBody": _body(RedriveBody, required=False),
                "responses": {
                    "202": _json("Queued", RedriveOut),
                    **_OWNED,
                    "409": problem_doc("The subscription is disabled; re-activate it first"),
                },
            },
        },
    }


@cache
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the notifier's HTTP API."""
    _, schemas = models_json_schema(
        [(m, "validation") for m in _MODELS], ref_template="#/components/schemas/{model}"
    )
    return openapi_document(
        title="ta-bridge notifier",
        description="Partner webhook subscriptions. Deliveries are CloudEvents "
        "(structured JSON) signed per Standard Webhooks (webhook-id, webhook-timestamp, "
        "webhook-signature); at least once, in order per activity per subscription.",
        server="http://127.0.0.1:8083",
        security=[{"partnerKey": []}],
        paths=_operations(),
        schemas=schemas.get("$defs", {}),
        security_schemes={
            "partnerKey": {
                "type": "http",
                "scheme": "bearer",
                "description": "A partner API key (NOTIFIER_PARTNER_KEYS)",
            }
        },
    )


openapi_view = document_view(document)
