"""A change's documents built around the activity serialised once are the documents their
models write: the same bytes, for every kind of change and awkward text."""

from __future__ import annotations

from typing import Literal

import orjson
import pytest

from services.registry.encoding import event_json, snapshot_of, state_json, view_json
from services.registry.representation import activity_view, created_response
from shared.db import Database
from shared.domain import Activity
from shared.events import ActivitySnapshot, ActivityUpdated, ActivityWithdrawn, build_catalog
from tests.unit.registry.store import Store

AWKWARD = {
    "en": 'Quotes " and \\ backslashes, tabs\tand unicode: Stratégie, 知识产权, emoji \U0001f4a1',
    "fr": "Ligne\nnouvelle et \u2028 séparateur",
}


@pytest.fixture
def store(database: Database) -> Store:
    return Store(database)


async def changes(
    store: Store,
) -> list[tuple[Activity, ActivityUpdated | ActivityWithdrawn | None]]:
    created = await store.create(title=AWKWARD, gender_marker=None)
    patched = await store.commands.patch(
        created.id, {"gender_marker": 2, "description": AWKWARD}, expected_version=1, actor="é"
    )
    withdrawn = await store.commands.withdraw(
        created.id, "a duplicate — see TA-2026-000002", expected_version=2, actor="admin"
    )
    updated = ActivityUpdated(
        activity_id=patched.id,
        version=2,
        actor="é",
        changed_fields=["gender_marker"],
        state=patched,
    )
    gone = ActivityWithdrawn(
        activity_id=withdrawn.id,
        version=3,
        actor="admin",
        changed_fields=["status", "withdrawn_reason"],
        state=withdrawn,
        reason=withdrawn.withdrawn_reason or "",
    )
    return [(created, None), (patched, updated), (withdrawn, gone)]


async def test_every_document_is_byte_for_byte_what_its_model_writes(store: Store) -> None:
    for activity, event in await changes(store):
        state = state_json(activity)
        assert state == activity.model_dump_json().encode()
        if event is not None:
            assert event_json(event, state) == event.to_json()
        snapshot, body = snapshot_of(activity, state)
        lifecycle: Literal["active", "withdrawn"] = (
            "withdrawn" if activity.withdrawn_reason is not None else "active"
        )
        model = ActivitySnapshot(
            activity_id=activity.id, version=activity.version, lifecycle=lifecycle, state=activity
        )
        assert body == model.to_json()
        assert (snapshot.key(), snapshot.subject(), snapshot.ce_type()) == (
            model.key(),
            model.subject(),
            model.ce_type(),
        )
        assert view_json(activity, state) == orjson.dumps(activity_view(activity))
        assert created_response(activity, state) == created_response(activity)


async def test_the_outbox_stores_the_bytes_the_relay_publishes(store: Store) -> None:
    await changes(store)
    rows = await store.outbox.pending(10)
    catalog = build_catalog()
    assert [orjson.loads(r.body)["version"] for r in rows] == [1, 2, 3]
    for row in rows:
        event = catalog.decode_body(row.event_type, row.body.encode())
        assert row.body.encode() == event.to_json()
