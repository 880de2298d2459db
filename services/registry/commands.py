"""What changes an activity: each command is one transaction writing the new version, its
history row and its outbox event together — or nothing at all."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from services.registry.db.activities import ActivityTable
from services.registry.db.database import Connection, Database
from services.registry.db.idempotency import IdempotencyTable, StoredResponse
from services.registry.db.outbox import OutboxEntry, OutboxTable
from services.registry.errors import ActivityWithdrawnError, IdempotencyKeyReused, VersionMismatch
from services.registry.merge_patch import apply_merge_patch
from shared import Fault, InvalidInput, NotFound, current_traceparent, faults_of
from shared.domain import Activity, ActivityFields, Codelists, Status, check_fields
from shared.events import ActivityRegistered, ActivityUpdated, ActivityWithdrawn

Render = Callable[[Activity], StoredResponse]


@dataclass(frozen=True, slots=True)
class Idempotency:
    key: str
    request_hash: str


class ActivityCommands:
    def __init__(
        self,
        *,
        db: Database,
        activities: ActivityTable,
        outbox: OutboxTable,
        idempotency: IdempotencyTable,
        codelists: Codelists,
        clock: Callable[[], datetime],
        iati_org_ref: str,
        on_commit: Callable[[], None],
    ) -> None:
        self._db = db
        self._activities = activities
        self._outbox = outbox
        self._idempotency = idempotency
        self._codelists = codelists
        self._clock = clock
        self._org = iati_org_ref
        self._on_commit = on_commit

    def checked(self, fields: ActivityFields) -> ActivityFields:
        """Apply the code-list rules; InvalidInput with a pointer per fault."""
        fields, faults = check_fields(fields, self._codelists)
        if faults:
            raise InvalidInput(f"{len(faults)} field(s) are invalid", faults)
        return fields

    async def create(
        self, fields: ActivityFields, *, actor: str, render: Render, idempotency: Idempotency | None
    ) -> tuple[StoredResponse, bool]:
        """Register an activity. Returns the response and whether it is a replay."""
        fields = self.checked(fields)
        async with self._db.transaction() as conn:
            if idempotency is not None:
                stored = await self._idempotency.find(conn, actor, idempotency.key)
                if stored is not None:
                    if stored.request_hash != idempotency.request_hash:
                        raise IdempotencyKeyReused(
                            "this Idempotency-Key was used with a different request",
                            [Fault("header:Idempotency-Key", "reused with another body")],
                        )
                    return stored, True
            activity = await self.create_in(conn, fields, actor=actor)
            response = render(activity)
            if idempotency is not None:
                await self._idempotency.save(
                    conn,
                    actor,
                    idempotency.key,
                    StoredResponse(
                        idempotency.request_hash, response.status, response.body, response.headers
                    ),
                )
        self._on_commit()
        return response, False

    async def create_in(self, conn: Connection, fields: ActivityFields, *, actor: str) -> Activity:
        """Register within the caller's transaction (bulk import uses this)."""
        number = await self._activities.next_number(conn)
        now = self._clock()
        activity_id = f"TA-{now.year}-{number:06d}"
        activity = _activity(
            fields,
            id=activity_id,
            version=1,
            iati_identifier=f"{self._org}-{activity_id}",
            created_at=now,
            updated_at=now,
            created_by=actor,
            updated_by=actor,
        )
        changed = sorted(fields.model_dump(exclude_defaults=True))
        await self._activities.insert(conn, number, activity, changed=changed)
        await self._record(conn, ActivityRegistered, activity, actor, changed)
        return activity

    async def replace(
        self, activity_id: str, fields: ActivityFields, *, expected_version: int, actor: str
    ) -> Activity:
        fields = self.checked(fields)
        return await self._change(activity_id, expected_version, actor, lambda _: fields)

    async def patch(
        self, activity_id: str, patch: dict[str, Any], *, expected_version: int | None, actor: str
    ) -> Activity:
        def patched(current: Activity) -> ActivityFields:
            merged = apply_merge_patch(current.fields().model_dump(mode="json"), patch)
            try:
                return self.checked(ActivityFields.model_validate(merged))
            except ValidationError as exc:
                raise InvalidInput("the patched activity is invalid", faults_of(exc)) from exc

        return await self._change(activity_id, expected_version, actor, patched)

    async def withdraw(
        self, activity_id: str, reason: str, *, expected_version: int | None, actor: str
    ) -> Activity:
        async with self._db.transaction() as conn:
            current = await self._current(conn, activity_id, expected_version)
            now = self._clock()
            withdrawn = _activity(
                current.fields(),
                **_identity(current),
                version=current.version + 1,
                updated_at=now,
                updated_by=actor,
                withdrawn_reason=reason,
                status=Status.WITHDRAWN,
            )
            changed = ["status", "withdrawn_reason"]
            await self._write(conn, withdrawn, current.version, "withdrawn", changed)
            await self._record(conn, ActivityWithdrawn, withdrawn, actor, changed, reason=reason)
        self._on_commit()
        return withdrawn

    async def _change(
        self,
        activity_id: str,
        expected_version: int | None,
        actor: str,
        build: Callable[[Activity], ActivityFields],
    ) -> Activity:
        async with self._db.transaction() as conn:
            current = await self._current(conn, activity_id, expected_version)
            fields = build(current)
            before = current.fields().model_dump(mode="json")
            after = fields.model_dump(mode="json")
            changed = sorted(k for k in after if after[k] != before.get(k))
            if not changed:
                return current  # nothing changed: no new version, no event
            updated = _activity(
                fields,
                **_identity(current),
                version=current.version + 1,
                updated_at=self._clock(),
                updated_by=actor,
            )
            await self._write(conn, updated, current.version, "updated", changed)
            await self._record(conn, ActivityUpdated, updated, actor, changed)
        self._on_commit()
        return updated

    async def _current(
        self, conn: Connection, activity_id: str, expected_version: int | None
    ) -> Activity:
        current = await self._activities.get_in(conn, activity_id)
        if current is None:
            raise NotFound(f"activity {activity_id} does not exist")
        if current.withdrawn_reason is not None:
            raise ActivityWithdrawnError(f"{activity_id} was withdrawn: {current.withdrawn_reason}")
        if expected_version is not None and expected_version != current.version:
            raise VersionMismatch(activity_id, expected_version, current.version)
        return current

    async def _write(
        self, conn: Connection, activity: Activity, expected: int, change: str, changed: list[str]
    ) -> None:
        if not await self._activities.update(
            conn, activity, expected_version=expected, change=change, changed=changed
        ):
            raise VersionMismatch(activity.id, expected, expected + 1)

    async def _record(
        self,
        conn: Connection,
        event_type: type[ActivityRegistered] | type[ActivityUpdated] | type[ActivityWithdrawn],
        activity: Activity,
        actor: str,
        changed: list[str],
        **extra: Any,
    ) -> None:
        event = event_type(
            activity_id=activity.id,
            version=activity.version,
            actor=actor,
            changed_fields=changed,
            state=activity,
            **extra,
        )
        await self._outbox.add(
            conn,
            OutboxEntry(
                activity_id=activity.id,
                event_type=event.ce_type(),
                event_id=str(uuid.uuid4()),
                body=event.model_dump_json(),
                traceparent=current_traceparent(),
                created_at=activity.updated_at,
            ),
        )


def _identity(activity: Activity) -> dict[str, Any]:
    return {
        "id": activity.id,
        "iati_identifier": activity.iati_identifier,
        "created_at": activity.created_at,
        "created_by": activity.created_by,
    }


def _activity(fields: ActivityFields, **bookkeeping: Any) -> Activity:
    data = fields.model_dump()
    data.update(bookkeeping)
    return Activity.model_validate(data)
