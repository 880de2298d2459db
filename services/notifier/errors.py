"""The notifier's errors: a branch of the shared tree (`shared._errors`), named for what
the caller does.

    TaBridgeError
    └── NotifierError
        ├── InvalidRequestError        (InvalidInput) 422: the input is wrong; fix and resend
        │   └── UnsafeTargetError      422: the webhook URL is somewhere we refuse to call
        ├── UnauthenticatedError       (Unauthenticated) 401: no or unknown partner API key
        ├── SubscriptionNotFoundError  (NotFound) 404, also for another partner's subscription
        └── SubscriptionConflictError  (Conflict) 409: the subscription's state forbids it

The base app's problem middleware answers them as `application/problem+json`, as for
every service (`shared._problems.problem_from_error`); nothing below the views knows HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared import Conflict, Fault, InvalidInput, NotFound, TaBridgeError, Unauthenticated

__all__ = [
    "FieldError",
    "InvalidRequestError",
    "NotifierError",
    "SubscriptionConflictError",
    "SubscriptionNotFoundError",
    "UnauthenticatedError",
    "UnsafeTargetError",
]

#: One fault in a request body: a JSON Pointer (RFC 6901), what is wrong, and its kind.
FieldError = Fault


class NotifierError(TaBridgeError):
    """Base of every error the notifier raises on purpose."""


class InvalidRequestError(NotifierError, InvalidInput):
    """The request is malformed or fails validation; ``faults`` locates each fault."""

    def __init__(self, detail: str, errors: Sequence[Fault] = ()) -> None:
        super().__init__(detail, errors)


class UnsafeTargetError(InvalidRequestError):
    """A webhook target is not an allowed public http(s) endpoint (SSRF protection)."""

    code = "unsafe_target"
    title = "Webhook target refused"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, [Fault("/url", detail)])


class UnauthenticatedError(NotifierError, Unauthenticated):
    """No usable partner API key was presented."""


class SubscriptionNotFoundError(NotifierError, NotFound):
    """No such subscription for this partner (another partner's is reported the same way)."""

    code = "subscription_not_found"


class SubscriptionConflictError(NotifierError, Conflict):
    """The subscription's current state does not allow the requested change."""

    code = "subscription_conflict"
