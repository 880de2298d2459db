"""The registry's own errors, on top of the shared tree (see shared._errors)."""

from __future__ import annotations

from shared import Conflict, InvalidInput


class VersionMismatch(Conflict):
    """If-Match named another version than the stored one: HTTP 412."""

    code = "version_mismatch"
    http_status = 412

    def __init__(self, activity_id: str, expected: int, current: int) -> None:
        super().__init__(f"{activity_id} is at version {current}, not {expected}")
        self.current = current


class ActivityWithdrawnError(Conflict):
    """A withdrawn activity is read-only: HTTP 409."""

    code = "activity_withdrawn"


class IdempotencyKeyReused(InvalidInput):
    """The same Idempotency-Key came with a different request body: HTTP 422."""

    code = "idempotency_key_reused"
