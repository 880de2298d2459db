"""How an activity is shown over HTTP: the record, its computed SDG tags, its links."""

from __future__ import annotations

import re
from typing import Any

import orjson

from services.registry.db.idempotency import StoredResponse
from services.registry.encoding import view_json
from shared.domain import Activity
from shared.events import SdgTagsAssigned


def etag(activity: Activity) -> str:
    return f'"{activity.version}"'


MAX_VERSION = 2**63 - 1
"""The largest version a store can hold (a signed 64-bit integer in SQLite and PostgreSQL)."""

_VERSION_RE = re.compile(r"[0-9]{1,19}")


def parse_version(text: str) -> int | None:
    """A version number as written in a path or ETag: ASCII digits, 1..2^63-1; else None.

    Bounded before conversion, so a 5,000-digit string costs nothing and never reaches
    the database (where it would overflow).
    """
    if _VERSION_RE.fullmatch(text) is None:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_VERSION else None


def parse_etag(value: str) -> int | None:
    """The version named by an ETag (`"3"` or `W/"3"`), or None if it names none."""
    text = value.strip().removeprefix("W/").strip('"')
    return parse_version(text)


def computed_view(tags: SdgTagsAssigned | None) -> dict[str, Any] | None:
    if tags is None:
        return None
    return {
        "model_id": tags.model_id,
        "activity_version": tags.activity_version,
        "outcome": tags.outcome,
        "goals": [g.model_dump(mode="json") for g in tags.kept_goals()],
        "targets": [t.model_dump(mode="json") for t in tags.kept_targets()],
    }


def activity_view(activity: Activity, tags: SdgTagsAssigned | None = None) -> dict[str, Any]:
    """The activity as JSON. `sdg` holds the curated tags, which always win; `sdg_computed`
    the tagger's result, shown beside them."""
    body = activity.model_dump(mode="json")
    body["lifecycle"] = "withdrawn" if activity.withdrawn_reason is not None else "active"
    body["sdg_computed"] = computed_view(tags)
    body["links"] = {
        "self": f"/v1/activities/{activity.id}",
        "history": f"/v1/activities/{activity.id}/history",
    }
    return body


_FIELDS = frozenset(Activity.model_fields)


def stored_view(state: str, tags: SdgTagsAssigned | None = None) -> dict[str, Any]:
    """`activity_view` of an activity's stored JSON state, without building the model: the
    state is what `Activity.model_dump_json` wrote, which is `model_dump(mode="json")`.
    State written before a field was added lacks it: that goes through the model, which
    fills in the default."""
    body: dict[str, Any] = orjson.loads(state)
    if body.keys() != _FIELDS:
        return activity_view(Activity.model_validate(body), tags)
    body["lifecycle"] = "withdrawn" if body["withdrawn_reason"] is not None else "active"
    body["sdg_computed"] = computed_view(tags)
    activity_id = body["id"]
    body["links"] = {
        "self": f"/v1/activities/{activity_id}",
        "history": f"/v1/activities/{activity_id}/history",
    }
    return body


def created_response(activity: Activity, state: bytes | None = None) -> StoredResponse:
    """The 201 to a create; `state` is the activity's JSON (`encoding.state_json`), if the
    caller has it (the body is then built around those bytes)."""
    return StoredResponse(
        request_hash="",
        status=201,
        body=orjson.dumps(activity_view(activity)) if state is None else view_json(activity, state),
        headers={
            "Location": f"/v1/activities/{activity.id}",
            "ETag": etag(activity),
            "Content-Type": "application/json",
        },
    )
