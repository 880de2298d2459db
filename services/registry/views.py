"""HTTP views of the activities API (`/v1/activities`)."""

from __future__ import annotations

import hashlib

import orjson
from aiohttp import web
from opentelemetry import trace
from pydantic import BaseModel, ConfigDict, Field

from services.registry.auth import PRINCIPAL, ScopedRoutes
from services.registry.commands import Idempotency
from services.registry.db.idempotency import StoredResponse
from services.registry.query import encode_cursor
from services.registry.query_params import parse_query
from services.registry.representation import (
    MAX_VERSION,
    activity_view,
    computed_view,
    created_response,
    etag,
    parse_etag,
    parse_version,
    stored_view,
)
from services.registry.state import ACTIVITIES, COMMANDS, COMPUTED, SETTINGS
from shared import (
    ACTIVITY_ID_ATTRIBUTE,
    NotFound,
    ProblemError,
    json_response,
    read_json,
    validate_model,
)
from shared.domain import Activity, ActivityFields, XmlSafeStr


class WithdrawRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: XmlSafeStr = Field(min_length=1, max_length=2000)


def _activity_id(request: web.Request) -> str:
    return request.match_info["activity_id"]


def _changing(request: web.Request) -> str:
    """The id of the activity a write changes, noted on the request span, so that
    `ta-bridge trace <activity id>` finds the request that started the change."""
    activity_id = _activity_id(request)
    trace.get_current_span().set_attribute(ACTIVITY_ID_ATTRIBUTE, activity_id)
    return activity_id


def _created(activity: Activity, state: bytes) -> StoredResponse:
    trace.get_current_span().set_attribute(ACTIVITY_ID_ATTRIBUTE, activity.id)
    return created_response(activity, state)


def _if_match(request: web.Request, *, required: bool) -> int | None:
    header = request.headers.get("If-Match")
    if header is None:
        if required:
            raise ProblemError(
                428,
                "precondition_required",
                "Precondition required",
                "send If-Match with the ETag you read, so a concurrent change is not overwritten",
            )
        return None
    version = parse_etag(header)
    if version is None:
        raise ProblemError(
            412,
            "version_mismatch",
            "Precondition failed",
            f"If-Match must be an ETag this API gave (like '\"3\"'), not {header[:40]!r}",
        )
    return version


def _stored(response: StoredResponse, *, replayed: bool) -> web.Response:
    headers = dict(response.headers)
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    content_type = headers.pop("Content-Type", "application/json")
    return web.Response(
        status=response.status, body=response.body, headers=headers, content_type=content_type
    )


async def _view(request: web.Request, activity_id: str) -> web.Response:
    activity = await request.app[ACTIVITIES].get(activity_id)
    if activity is None:
        raise NotFound(f"activity {activity_id} does not exist")
    tags = (await request.app[COMPUTED].get_many([activity_id])).get(activity_id)
    tag = etag(activity)
    if request.headers.get("If-None-Match") == tag:
        return web.Response(status=304, headers={"ETag": tag})
    return json_response(activity_view(activity, tags), headers={"ETag": tag})


async def create(request: web.Request) -> web.Response:
    data = await read_json(request, limit=request.app[SETTINGS].max_body_bytes)
    fields = validate_model(ActivityFields, data)
    key = request.headers.get("Idempotency-Key")
    idempotency = None
    if key is not None:
        if not 1 <= len(key) <= 255:
            raise ProblemError(
                400, "bad_idempotency_key", "Bad Idempotency-Key", "1 to 255 characters"
            )
        digest = hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()
        idempotency = Idempotency(key, digest)
    response, replayed = await request.app[COMMANDS].create(
        fields, actor=request[PRINCIPAL].name, render=_created, idempotency=idempotency
    )
    return _stored(response, replayed=replayed)


async def read(request: web.Request) -> web.Response:
    return await _view(request, _activity_id(request))


async def replace(request: web.Request) -> web.Response:
    expected = _if_match(request, required=True)
    assert expected is not None
    fields = validate_model(
        ActivityFields, await read_json(request, limit=request.app[SETTINGS].max_body_bytes)
    )
    await request.app[COMMANDS].replace(
        _changing(request), fields, expected_version=expected, actor=request[PRINCIPAL].name
    )
    return await _view(request, _activity_id(request))


async def patch(request: web.Request) -> web.Response:
    expected = _if_match(request, required=False)
    body = await read_json(request, limit=request.app[SETTINGS].max_body_bytes)
    if not isinstance(body, dict):
        raise ProblemError(
            422, "validation_failed", "Validation failed", "a merge patch is a JSON object"
        )
    await request.app[COMMANDS].patch(
        _changing(request), body, expected_version=expected, actor=request[PRINCIPAL].name
    )
    return await _view(request, _activity_id(request))


async def withdraw(request: web.Request) -> web.Response:
    expected = _if_match(request, required=False)
    payload = validate_model(
        WithdrawRequest, await read_json(request, limit=request.app[SETTINGS].max_body_bytes)
    )
    await request.app[COMMANDS].withdraw(
        _changing(request),
        payload.reason,
        expected_version=expected,
        actor=request[PRINCIPAL].name,
    )
    return await _view(request, _activity_id(request))


async def history(request: web.Request) -> web.Response:
    activity_id = _activity_id(request)
    versions = await request.app[ACTIVITIES].history(activity_id)
    if not versions:
        raise NotFound(f"activity {activity_id} does not exist")
    return json_response(
        {
            "activity_id": activity_id,
            "versions": [
                {
                    "version": v.version,
                    "change": v.change,
                    "actor": v.actor,
                    "at": v.changed_at,
                    "changed_fields": v.changed_fields,
                    "link": f"/v1/activities/{activity_id}/versions/{v.version}",
                }
                for v in versions
            ],
        }
    )


async def version(request: web.Request) -> web.Response:
    activity_id = _activity_id(request)
    text = request.match_info["version"]
    number = parse_version(text)
    if number is None and text.isascii() and text.isdigit():
        raise NotFound(f"{activity_id} has no version {text[:40]}")
    if number is None:
        raise ProblemError(
            400,
            "invalid_version",
            "Invalid version",
            f"versions are numbered 1 to {MAX_VERSION}; {text[:40]!r} is not one",
        )
    activity = await request.app[ACTIVITIES].version(activity_id, number)
    if activity is None:
        raise NotFound(f"{activity_id} has no version {number}")
    return json_response(activity_view(activity), headers={"ETag": etag(activity)})


async def listing(request: web.Request) -> web.Response:
    query = parse_query(request.query)
    page, more = await request.app[ACTIVITIES].page(query)
    items = [stored_view(state) for _, state in page]
    tags = await request.app[COMPUTED].get_many([item["id"] for item in items])
    for item in items:
        if item["id"] in tags:
            item["sdg_computed"] = computed_view(tags[item["id"]])
    body: dict[str, object] = {
        "items": items,
        "next_cursor": encode_cursor(page[-1][0]) if more and page else None,
    }
    return json_response(body)


def add_activity_routes(routes: ScopedRoutes) -> None:
    routes.add("POST", "/v1/activities", create, "write")
    routes.add("GET", "/v1/activities", listing, "read")
    routes.add("GET", "/v1/activities/{activity_id}", read, "read")
    routes.add("PUT", "/v1/activities/{activity_id}", replace, "write")
    routes.add("PATCH", "/v1/activities/{activity_id}", patch, "write")
    routes.add("POST", "/v1/activities/{activity_id}/withdraw", withdraw, "write")
    routes.add("GET", "/v1/activities/{activity_id}/history", history, "read")
    routes.add("GET", "/v1/activities/{activity_id}/versions/{version}", version, "read")
