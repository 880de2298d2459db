"""An activity change serialised once.

A change used to serialise the same activity four or five times: for its row, its history,
its outbox event, the relay's event and snapshot, and the response. Here the activity is
serialised once (`state_json`, what `Activity.model_dump_json` writes) and every other
document embeds those bytes: each is the JSON its model would write, field for field.
"""

from __future__ import annotations

from typing import Literal

import orjson

from shared import Event
from shared.domain import Activity
from shared.events import ActivitySnapshot

Lifecycle = Literal["active", "withdrawn"]


def state_json(activity: Activity) -> bytes:
    """The activity's JSON, as stored (`Activity.model_dump_json`)."""
    return activity.__pydantic_serializer__.to_json(activity)


def lifecycle_of(activity: Activity) -> Lifecycle:
    return "withdrawn" if activity.withdrawn_reason is not None else "active"


def event_json(event: Event, state: bytes) -> bytes:
    """`event.to_json()`, its `state` field written as the given bytes (the activity's
    `state_json`) instead of being serialised again."""
    small = event.model_dump(mode="json", exclude={"state"})
    return orjson.dumps(
        {
            name: orjson.Fragment(state) if name == "state" else small[name]
            for name in type(event).model_fields
        }
    )


def snapshot_of(activity: Activity, state: bytes) -> tuple[ActivitySnapshot, bytes]:
    """The activity's snapshot event and its JSON (`ActivitySnapshot.to_json()`)."""
    lifecycle = lifecycle_of(activity)
    snapshot = ActivitySnapshot.model_construct(
        activity_id=activity.id, version=activity.version, lifecycle=lifecycle, state=activity
    )
    body = orjson.dumps(
        {
            "activity_id": activity.id,
            "version": activity.version,
            "lifecycle": lifecycle,
            "state": orjson.Fragment(state),
        }
    )
    return snapshot, body


def view_json(activity: Activity, state: bytes) -> bytes:
    """`orjson.dumps(activity_view(activity))` (no computed tags) from the activity's
    `state_json`: the state's members, then the lifecycle, the tags and the links."""
    extra = orjson.dumps(
        {
            "lifecycle": lifecycle_of(activity),
            "sdg_computed": None,
            "links": {
                "self": f"/v1/activities/{activity.id}",
                "history": f"/v1/activities/{activity.id}/history",
            },
        }
    )
    return state[:-1] + b"," + extra[1:]
