from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.notifier.events import IncomingEvent
from services.notifier.filters import matches, recipients
from services.notifier.subscriptions import Filters, Subscription

MEMBERS = {"EAC": frozenset({"KE", "TZ", "UG"}), "ASEAN": frozenset({"TH", "VN"})}


def event(**facets: Any) -> IncomingEvent:
    return IncomingEvent(
        id="e1",
        type="org.wipo.ta.activity.created.v1",
        subject="act-1",
        time=datetime(2025, 1, 1, tzinfo=UTC),
        body=b"{}",
        **facets,
    )


def f(**kw: Any) -> Filters:
    return Filters(**{k: frozenset(v) for k, v in kw.items()})


@pytest.mark.parametrize(
    ("filters", "facets", "expected"),
    [
        (f(), {}, True),
        (f(countries={"KE"}), {"countries": {"KE", "FR"}}, True),
        (f(countries={"KE"}), {"countries": {"FR"}}, False),
        (f(communities={"EAC"}), {"countries": {"TZ"}}, True),
        (f(communities={"EAC"}), {"countries": {"TH"}}, False),
        (f(communities={"EAC"}), {"communities": {"EAC"}}, True),
        (f(countries={"FR"}, communities={"ASEAN"}), {"countries": {"FR"}}, True),
        (f(sdgs={9}), {"sdgs": {9, 4}}, True),
        (f(sdgs={9}), {"sdgs": {4}}, False),
        (f(categories={"capacity_building"}), {"category": "capacity_building"}, True),
        (f(categories={"capacity_building"}), {"category": None}, False),
        (f(partners={"WHO"}), {"partners": {"WHO", "WTO"}}, True),
        (f(partners={"WHO"}), {}, False),
        (f(countries={"KE"}, sdgs={9}), {"countries": {"KE"}, "sdgs": {3}}, False),
    ],
)
def test_matches(filters: Filters, facets: dict[str, Any], expected: bool) -> None:
    assert matches(filters, event(**facets), MEMBERS) is expected


def test_recipients_respect_event_types() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)

    def sub(types: set[str]) -> Subscription:
        return Subscription.new(
            partner_id="p", url="https://x", event_types=frozenset(types), filters=f(), now=now
        )

    wild, exact, other = sub({"*"}), sub({"org.wipo.ta.activity.created.v1"}), sub({"x.v1"})
    assert recipients(event(), [wild, exact, other], MEMBERS) == [wild, exact]
