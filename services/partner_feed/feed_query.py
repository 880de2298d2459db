"""What a feed request asks for: filters, the `since` cursor, and the ETag of the answer."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from services.partner_feed.feed_mapping import goals_of
from shared import Fault, InvalidInput
from shared.domain import Activity, Category, Codelists

RENDER_VERSION = "1"
"""Bumped when the rendering of a feed changes, so cached ETags stop matching."""


def _values(multi: list[str]) -> frozenset[str]:
    return frozenset(v.strip() for raw in multi for v in raw.split(",") if v.strip())


@dataclass(frozen=True, slots=True)
class FeedQuery:
    """Filters are OR within one parameter (repeat it or comma-separate), AND across."""

    since: int | None
    countries: frozenset[str]
    communities: frozenset[str]
    sdgs: frozenset[int]
    categories: frozenset[str]

    @classmethod
    def parse(cls, query: Mapping[str, str], getall: dict[str, list[str]]) -> FeedQuery:
        """Raises InvalidInput (400) with a pointer per bad parameter."""
        faults: list[Fault] = []
        since: int | None = None
        raw_since = query.get("since")
        if raw_since is not None:
            # ASCII digits within SQLite's integer range ("²".isdigit() is true, and a
            # 40-digit cursor would overflow the query).
            if raw_since.isascii() and raw_since.isdigit() and len(raw_since) <= 18:
                since = int(raw_since)
            else:
                faults.append(Fault("since", "a cursor is the X-Next-Cursor of an earlier feed"))
        countries = frozenset(c.upper() for c in _values(getall.get("country", [])))
        sdgs: set[int] = set()
        for goal in _values(getall.get("sdg", [])):
            if goal.isdigit() and 1 <= int(goal) <= 17:
                sdgs.add(int(goal))
            else:
                faults.append(Fault("sdg", f"{goal!r} is not an SDG goal 1-17"))
        categories = _values(getall.get("category", []))
        known = {c.value for c in Category}
        faults += [
            Fault("category", f"{c!r} is not one of {sorted(known)}") for c in categories - known
        ]
        if faults:
            error = InvalidInput("invalid feed parameters", faults)
            error.http_status = 400
            raise error
        return cls(
            since=since,
            countries=countries,
            communities=frozenset(c.upper() for c in _values(getall.get("community", []))),
            sdgs=frozenset(sdgs),
            categories=categories,
        )

    def matches(
        self,
        activity: Activity,
        computed_goals: tuple[int, ...],
        lists: Codelists,
        computed_targets: tuple[str, ...] = (),
    ) -> bool:
        countries = set(activity.countries())
        if self.countries and not self.countries & countries:
            return False
        if self.communities:
            members = {c for code in self.communities for c in lists.members_of(code)}
            if not (self.communities & set(activity.regional_communities) or members & countries):
                return False
        if self.sdgs and not self.sdgs & set(goals_of(activity, computed_goals, computed_targets)):
            return False
        return not (self.categories and activity.category.value not in self.categories)

    def etag(self, feed: str, last_seq: int, publisher_ref: str) -> str:
        key = "|".join(
            [
                RENDER_VERSION,
                feed,
                publisher_ref,
                str(self.since),
                ",".join(sorted(self.countries)),
                ",".join(sorted(self.communities)),
                ",".join(str(g) for g in sorted(self.sdgs)),
                ",".join(sorted(self.categories)),
                str(last_seq),
            ]
        )
        return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in candidates or etag in candidates
