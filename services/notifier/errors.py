"""The notifier's error tree, named for what the caller does.

    NotifierError
    ├── InvalidRequestError        -> 400 / 422: the input is wrong; fix it and resend
    │   └── UnsafeTargetError      -> 422: the webhook URL is somewhere we refuse to call
    ├── UnauthenticatedError       -> 401: no or unknown partner API key
    ├── SubscriptionNotFoundError  -> 404 (also for another partner's subscription)
    └── SubscriptionConflictError  -> 409: the subscription's state forbids the action

Views map these to ``application/problem+json``; nothing below the views knows HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One fault in a request body: a JSON Pointer (RFC 6901) to it, what is wrong, and
    its kind (pydantic's error type, or `invalid`)."""

    pointer: str
    message: str
    code: str = "invalid"


class NotifierError(Exception):
    """Base of every error the notifier raises on purpose."""


class InvalidRequestError(NotifierError):
    """The request is malformed or fails validation; ``errors`` locates each fault."""

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class UnsafeTargetError(InvalidRequestError):
    """A webhook target is not an allowed public http(s) endpoint (SSRF protection)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, [FieldError("/url", detail)])


class UnauthenticatedError(NotifierError):
    """No usable partner API key was presented."""


class SubscriptionNotFoundError(NotifierError):
    """No such subscription for this partner (another partner's is reported the same way)."""


class SubscriptionConflictError(NotifierError):
    """The subscription's current state does not allow the requested change."""
