"""Turning list query parameters into an `ActivityQuery`, with a fault per bad parameter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from multidict import MultiMapping

from services.registry.query import MAX_LIMIT, ActivityQuery, decode_cursor
from shared import Fault, InvalidInput, InvalidQuery
from shared.domain import Category, Stage, Status

T = TypeVar("T")

KNOWN = {
    "country",
    "community",
    "category",
    "stage",
    "status",
    "sdg",
    "da",
    "partner",
    "starts_from",
    "starts_to",
    "ends_from",
    "ends_to",
    "updated_since",
    "q",
    "limit",
    "cursor",
    "include_withdrawn",
}


def _date(text: str) -> date:
    return date.fromisoformat(text)


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ranged(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not text.strip().lstrip("-").isdigit():
            raise ValueError(f"not a whole number; give one between {low} and {high}")
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return parse


def _member(allowed: set[str]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"must be one of {sorted(allowed)}")
        return text

    return parse


def _upper(text: str) -> str:
    if not (2 <= len(text) <= 8 and text.isalpha()):
        raise ValueError("must be a code like 'KE' or 'EAC'")
    return text.upper()


def parse_query(params: MultiMapping[str]) -> ActivityQuery:
    """Raises InvalidInput naming each bad parameter as `/query/<name>`."""
    faults: list[Fault] = []

    def many(name: str, parse: Callable[[str], T]) -> tuple[T, ...]:
        values: list[T] = []
        for raw in params.getall(name, []):
            for part in (p.strip() for p in raw.split(",")):
                if not part:
                    continue
                try:
                    values.append(parse(part))
                except ValueError as exc:
                    faults.append(Fault(f"/query/{name}", f"{part!r}: {exc}"))
        return tuple(values)

    def one(name: str, parse: Callable[[str], T]) -> T | None:
        found = many(name, parse)
        return found[-1] if found else None

    for unknown in sorted(set(params) - KNOWN):
        faults.append(Fault(f"/query/{unknown}", "unknown parameter"))
    cursor = params.get("cursor")
    after = 0
    if cursor:
        try:
            after = decode_cursor(cursor)
        except InvalidInput as exc:
            faults.extend(exc.faults)
    fields: dict[str, Any] = {
        "countries": many("country", _upper),
        "communities": many("community", _upper),
        "categories": many("category", _member({c.value for c in Category})),
        "stages": many("stage", _member({s.value for s in Stage})),
        "statuses": many("status", _member({s.value for s in Status})),
        "sdgs": many("sdg", _ranged(1, 17)),
        "da_recommendations": many("da", _ranged(1, 45)),
        "partners": many("partner", str),
        "starts_from": one("starts_from", _date),
        "starts_to": one("starts_to", _date),
        "ends_from": one("ends_from", _date),
        "ends_to": one("ends_to", _date),
        "updated_since": one("updated_since", _moment),
        "text": (params.get("q") or "").strip() or None,
        "include_withdrawn": one("include_withdrawn", _member({"true", "false"})) != "false",
        "limit": one("limit", _ranged(1, MAX_LIMIT)) or 50,
        "after_number": after,
    }
    if faults:
        raise InvalidQuery("invalid query parameters", faults)
    return ActivityQuery(**fields)
