"""The list query: filters, stable order, opaque cursors."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import date, datetime

import orjson

from shared import Fault, InvalidInput

MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class ActivityQuery:
    """Filters combine with AND; the values of one filter with OR."""

    countries: tuple[str, ...] = ()
    communities: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    sdgs: tuple[int, ...] = ()
    da_recommendations: tuple[int, ...] = ()
    partners: tuple[str, ...] = ()
    starts_from: date | None = None
    starts_to: date | None = None
    ends_from: date | None = None
    ends_to: date | None = None
    updated_since: datetime | None = None
    text: str | None = None
    include_withdrawn: bool = True
    after_number: int = 0
    limit: int = 50
    echo: dict[str, list[str]] = field(default_factory=dict)


def encode_cursor(number: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"n": number})).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Raises InvalidInput for a cursor this service did not issue."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = orjson.loads(base64.urlsafe_b64decode(padded))
        number = data["n"]
        if not isinstance(number, int) or number < 0:
            raise ValueError(number)
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise InvalidInput(
            "bad cursor", [Fault("/query/cursor", "not a cursor this API issued")]
        ) from exc
    return number
