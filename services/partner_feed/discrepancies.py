"""Where a linked partner record and its registry activity disagree: dates, status,
countries. Only facts both sides state are compared; silence is not a discrepancy."""

from __future__ import annotations

from typing import Any

from services.partner_feed.feed_mapping import STATUS_CODES
from services.partner_feed.formats import PartnerRecord
from shared.domain import Activity

_DATES = ("planned_start", "actual_start", "planned_end", "actual_end")


def discrepancies(record: PartnerRecord, activity: Activity) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def add(field: str, partner_value: Any, registry_value: Any) -> None:
        found.append({"field": field, "partner": partner_value, "registry": registry_value})

    for name in _DATES:
        mine, theirs = getattr(record, name), getattr(activity.dates, name)
        if mine is not None and theirs is not None and mine != theirs:
            add(name, mine.isoformat(), theirs.isoformat())
    registry_status = STATUS_CODES[activity.status]
    if record.status and record.status != registry_status:
        add("status", record.status, registry_status)
    countries = sorted({c.code for c in record.recipient_countries})
    registry_countries = sorted(activity.countries())
    if countries and registry_countries and countries != registry_countries:
        add("countries", countries, registry_countries)
    return found
