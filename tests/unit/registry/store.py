"""The registry's repository assembled on one database, as the app assembles it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from services.registry.commands import ActivityCommands
from services.registry.db.activities import ActivityTable
from services.registry.db.api_keys import ApiKeyTable
from services.registry.db.computed_tags import ComputedTagTable
from services.registry.db.idempotency import IdempotencyTable, StoredResponse
from services.registry.db.outbox import OutboxRecord, OutboxTable
from shared.db import Database
from shared.domain import Activity, ActivityFields, load_codelists
from tests.support.activities import activity_doc

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class SteppingClock:
    """Each reading is one second after the previous: every change has its own instant."""

    now: datetime = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@dataclass
class Store:
    db: Database
    clock: SteppingClock = field(default_factory=SteppingClock)
    commits: int = 0

    def __post_init__(self) -> None:
        self.activities = ActivityTable(self.db)
        self.outbox = OutboxTable(self.db)
        self.keys = ApiKeyTable(self.db)
        self.computed = ComputedTagTable(self.db)
        self.idempotency = IdempotencyTable()
        self.commands = ActivityCommands(
            db=self.db,
            activities=self.activities,
            outbox=self.outbox,
            idempotency=self.idempotency,
            codelists=load_codelists(),
            clock=self.clock,
            iati_org_ref="XI-IATI-WIPO",
            on_commit=self._committed,
        )

    def _committed(self, written: list[OutboxRecord]) -> None:
        self.commits += 1

    async def create(self, actor: str = "staff", **overrides: Any) -> Activity:
        response, replayed = await self.commands.create(
            fields(**overrides), actor=actor, render=render, idempotency=None
        )
        assert not replayed
        return Activity.model_validate_json(response.body)


def fields(**overrides: Any) -> ActivityFields:
    return ActivityFields.model_validate(activity_doc(**overrides))


def render(activity: Activity, state: bytes) -> StoredResponse:
    """What the create view stores for replays: status, body and headers."""
    return StoredResponse(
        request_hash="",
        status=201,
        body=activity.model_dump_json().encode(),
        headers={"ETag": f'"{activity.version}"', "Location": f"/v1/activities/{activity.id}"},
    )


def body_of(row_body: str) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(row_body)
    return data
