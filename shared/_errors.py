"""The error tree every ta-bridge package builds on, named for what the caller does.

TaBridgeError
├── InvalidInput            bad data from outside: HTTP 400/422, or the DLQ for an event
│   ├── InvalidQuery        a query parameter that cannot be used: HTTP 400
│   └── InvalidEvent        an event that cannot be decoded or does not validate
├── Unauthenticated         HTTP 401: no, malformed, unknown or revoked credentials
├── NotFound                HTTP 404
├── Conflict                HTTP 409 / 412
├── RetryableError          a passing failure (broker, database, remote): try again later
├── SettingsError           a setting is missing or wrong: the process refuses to start
└── DlqLimitExceeded        too many dead letters: the consumer halts instead of dumping
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault in some input: where (a JSON pointer, an XPath, a header name), what, and
    its kind (`code`: pydantic's error type such as `missing`, or `invalid`)."""

    pointer: str
    message: str
    code: str = "invalid"


class TaBridgeError(Exception):
    """Base of every error ta-bridge raises on purpose.

    `code` is the machine-readable name; `http_status`, when set, overrides the status
    the HTTP layer would choose from the class (e.g. a Conflict that is a 412).
    """

    code = "error"
    http_status: int | None = None
    #: The problem title the HTTP layer answers with, when the class wants its own.
    title: str | None = None


class InvalidInput(TaBridgeError):
    """Input from outside is wrong; `faults` says where and what."""

    code = "invalid_input"

    def __init__(self, message: str, faults: Sequence[Fault] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.faults: tuple[Fault, ...] = tuple(faults)


class InvalidQuery(InvalidInput):
    """A query parameter is unknown or has a value that cannot be used (HTTP 400); each
    fault's pointer is `/query/<name>`."""

    code = "invalid_query"
    http_status = 400


class InvalidEvent(InvalidInput):
    """An event that cannot be read: bad envelope, unknown version, body that fails its model."""

    code = "invalid_event"


class Unauthenticated(TaBridgeError):
    """The caller presented no usable credentials (HTTP 401 with `WWW-Authenticate`)."""

    code = "unauthenticated"
    http_status = 401


class NotFound(TaBridgeError):
    code = "not_found"


class Conflict(TaBridgeError):
    code = "conflict"


class RetryableError(TaBridgeError):
    """A passing failure: the same work may succeed if tried again later."""

    code = "retryable"


class SettingsError(TaBridgeError):
    """A setting is missing or invalid; the message names the environment variable."""

    code = "settings"


class DlqLimitExceeded(TaBridgeError):
    """More poison messages than the DLQ limit allows: the consumer stops to protect the data."""

    code = "dlq_limit_exceeded"
