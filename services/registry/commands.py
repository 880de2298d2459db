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
from services.registry.db.idempotency import IdempotencyTable, StoredResponse
from services.registry.db.outbox import OutboxEntry, OutboxRecord, OutboxTable
from services.registry.encoding import event_json, snapshot_of, state_json
from services.registry.errors import ActivityWithdrawnError, IdempotencyKeyReused, VersionMismatch
from services.registry.merge_patch import apply_merge_patch
from shared import Fault, InvalidInput, NotFound, current_traceparent, faults_of
from shared.db import Connection, Database
from shared.domain import Activity, ActivityFields, Codelists, Status, check_fields
from shared.events import ActivityRegistered, ActivityUpdated, ActivityWithdrawn

Render = Callable[[Activity, bytes], StoredResponse]
"""The response to a create, from the activity and its JSON (`encoding.state_json`)."""
Handoff = Callable[[list[OutboxRecord]], None]
"""Told, after each commit, the outbox rows the transaction wrote (for the relay)."""


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
        on_commit: Handoff,
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
        written: list[OutboxRecord] = []
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
            activity, state = await self._create(conn, fields, actor, written)
            response = render(activity, state)
            if idempotency is not None:
                await self._idempotency.save(
                    conn,
                    actor,
                    idempotency.key,
                    StoredResponse(
                        idempotency.request_hash, response.status, response.body, response.headers
                    ),
                )
        self._on_commit(written)
        return response, False

    async def create_in(
        self,
        conn: Connection,
        fields: ActivityFields,
        *,
        actor: str,
        written: list[OutboxRecord] | None = None,
    ) -> Activity:
        """Register within the caller's transaction (bulk import uses this). The outbox row
        goes to `written` if given, for the caller to hand to `on_commit` once committed."""
        activity, _ = await self._create(conn, fields, actor, written)
        return activity

    async def _create(
        self,
        conn: Connection,
        fields: ActivityFields,
        actor: str,
        written: list[OutboxRecord] | None,
    ) -> tuple[Activity, bytes]:
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
        state = state_json(activity)
        await self._activities.insert(conn, number, activity, changed=changed, state=state.decode())
        await self._record(conn, ActivityRegistered, activity, state, actor, changed, written)
        return activity, state

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
        written: list[OutboxRecord] = []
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
            state = state_json(withdrawn)
            await self._write(conn, withdrawn, state, current.version, "withdrawn", changed)
            await self._record(
                conn, ActivityWithdrawn, withdrawn, state, actor, changed, written, reason=reason
            )
        self._on_commit(written)
        return withdrawn

    async def _change(
        self,
        activity_id: str,
        expected_version: int | None,
        actor: str,
        build: Callable[[Activity], ActivityFields],
    ) -> Activity:
        written: list[OutboxRecord] = []
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
            state = state_json(updated)
            await self._write(conn, updated, state, current.version, "updated", changed)
            await self._record(conn, ActivityUpdated, updated, state, actor, changed, written)
        self._on_commit(written)
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
        self,
        conn: Connection,
        activity: Activity,
        state: bytes,
        expected: int,
        change: str,
        changed: list[str],
    ) -> None:
        if not await self._activities.update(
            conn,
            activity,
            expected_version=expected,
            change=change,
            changed=changed,
            state=state.decode(),
        ):
            raise VersionMismatch(activity.id, expected, expected + 1)

    async def _record(
        self,
        conn: Connection,
        event_type: type[ActivityRegistered] | type[ActivityUpdated] | type[ActivityWithdrawn],
        activity: Activity,
        state: bytes,
        actor: str,
        changed: list[str],
        written: list[OutboxRecord] | None,
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
        body = event_json(event, state)
        entry = OutboxEntry(
            activity_id=activity.id,
            event_type=event.ce_type(),
            event_id=str(uuid.uuid4()),
            body=body.decode(),
            traceparent=current_traceparent(),
            created_at=activity.updated_at,
        )
        seq = await self._outbox.add(conn, entry)
        if written is not None:
            snapshot, snapshot_body = snapshot_of(activity, state)
            written.append(
                OutboxRecord(
                    seq,
                    entry.event_id,
                    event,
                    body,
                    snapshot,
                    snapshot_body,
                    entry.traceparent,
                    entry.created_at,
                )
            )


def _identity(activity: Activity) -> dict[str, Any]:
    return {
        "id": activity.id,
        "iati_identifier": activity.iati_identifier,
        "created_at": activity.created_at,
        "created_by": activity.created_by,
    }


def _activity(fields: ActivityFields, **bookkeeping: Any) -> Activity:
    # The fields' values as they are (validated models, not dumps of them): only the
    # bookkeeping and the plain values are validated again.
    data = dict(fields)
    data.update(bookkeeping)
    return Activity.model_validate(data)
