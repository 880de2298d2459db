"""Linking partner records to registry activities.

Explicit identifiers first: a record that names a WIPO activity — its id (`TA-2025-000123`)
or IATI identifier — in `participating-org/@activity-id`, `related-activity/@ref`,
`other-identifier/@ref` or as its own `iati-identifier`, or that the activity lists among
its partner ids, links with confidence 1.0. Otherwise a scored match on title similarity
(55 %), recipient countries (20 %), start date (15 %) and partners (10 %); an unknown
component counts as neutral (0.5). Scores at or above the threshold link with the score
as confidence, capped at 0.95 so a fuzzy link never looks like an explicit one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from typing import Literal

from services.partner_feed.formats import PartnerRecord
from shared.domain import Activity

_WIPO_ID = re.compile(r"TA-[0-9]{4}-[0-9]{6}")
_WORD = re.compile(r"\w+")
_STOP = frozenset(
    ("the", "of", "and", "for", "in", "to", "on", "an", "with", "by", "de", "la", "le", "les",
     "des", "et", "du", "en", "el", "los", "para")
)  # fmt: skip
_WEIGHTS = {"title": 0.55, "countries": 0.2, "dates": 0.15, "partners": 0.1}
MAX_FUZZY = 0.95


def _tokens(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1]


@dataclass(frozen=True, slots=True)
class KnownActivity:
    activity_id: str
    keys: frozenset[str]
    partner_refs: frozenset[tuple[str, str]]
    titles: tuple[str, ...]
    tokens: frozenset[str]
    countries: frozenset[str]
    start: date | None
    partners: frozenset[str]
    activity: Activity

    @classmethod
    def of(cls, activity: Activity) -> KnownActivity:
        titles = tuple(" ".join(_tokens(t)) for t in activity.title.values())
        dates = activity.dates
        return cls(
            activity_id=activity.id,
            keys=frozenset(
                {activity.id, activity.iati_identifier, *activity.external_refs.iati_identifiers}
            ),
            partner_refs=frozenset((p.partner, p.id) for p in activity.external_refs.partner_ids),
            titles=titles,
            tokens=frozenset(w for t in titles for w in t.split()),
            countries=frozenset(activity.countries()),
            start=dates.actual_start or dates.planned_start,
            partners=frozenset(x.lower() for p in activity.partners for x in (p.name, p.ref) if x),
            activity=activity,
        )


@dataclass(frozen=True, slots=True)
class Match:
    activity: KnownActivity
    confidence: float
    method: Literal["identifier", "scored"]
    evidence: tuple[str, ...]


def _explicit_keys(record: PartnerRecord) -> list[str]:
    ids = record.identifiers
    keys = [
        *ids.participating_activity_ids,
        *(r.ref for r in ids.related_activities),
        *(o.ref for o in ids.other),
    ]
    if ids.iati_identifier:
        keys.append(ids.iati_identifier)
    return [k.strip() for k in keys if k and k.strip()]


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float | None:
    if not a or not b:
        return None
    return len(a & b) / len(a | b)


def _title(record_titles: list[str], known: KnownActivity) -> float:
    best = 0.0
    for mine in record_titles:
        mine_tokens = frozenset(mine.split())
        for theirs in known.titles:
            overlap = _jaccard(mine_tokens, frozenset(theirs.split())) or 0.0
            best = max(best, 0.5 * overlap + 0.5 * SequenceMatcher(None, mine, theirs).ratio())
    return best


def _dates(start: date | None, known: KnownActivity) -> float | None:
    if start is None or known.start is None:
        return None
    days = abs((start - known.start).days)
    return 1.0 if days <= 31 else max(0.0, 1 - (days - 31) / 334)


class Matcher:
    """Matches records against a fixed set of activities (built once per import)."""

    def __init__(self, activities: Iterable[Activity], *, threshold: float) -> None:
        self._threshold = threshold
        self._known = [KnownActivity.of(a) for a in activities]
        self._by_key = {k: known for known in self._known for k in known.keys}
        self._by_id = {known.activity_id: known for known in self._known}
        self._by_partner_ref = {r: known for known in self._known for r in known.partner_refs}
        self._by_token: dict[str, list[int]] = {}
        for i, known in enumerate(self._known):
            for token in known.tokens:
                self._by_token.setdefault(token, []).append(i)

    def __len__(self) -> int:
        return len(self._known)

    def match(self, record: PartnerRecord) -> Match | None:
        return self._explicit(record) or self._scored(record)

    def _explicit(self, record: PartnerRecord) -> Match | None:
        known = self._by_partner_ref.get((record.partner_id, record.record_id))
        if known is not None:
            return Match(known, 1.0, "identifier", (f"partner id {record.record_id}",))
        for key in _explicit_keys(record):
            known = self._by_key.get(key)
            if known is None and (found := _WIPO_ID.search(key)):
                known = self._by_id.get(found.group(0))
            if known is not None:
                return Match(known, 1.0, "identifier", (f"identifier {key}",))
        return None

    def _scored(self, record: PartnerRecord) -> Match | None:
        titles = [" ".join(_tokens(t)) for t in record.titles.values()]
        hits: Counter[int] = Counter(
            i for t in titles for w in set(t.split()) for i in self._by_token.get(w, ())
        )
        countries = frozenset(c.code for c in record.recipient_countries)
        start = record.actual_start or record.planned_start
        partners = frozenset(
            x.lower() for p in record.participating_orgs for x in (p.ref, *p.name.values()) if x
        )
        best: Match | None = None
        for i, _ in hits.most_common(50):
            known = self._known[i]
            parts = {
                "title": _title(titles, known),
                "countries": _jaccard(countries, known.countries),
                "dates": _dates(start, known),
                "partners": (1.0 if partners & known.partners else 0.0)
                if partners and known.partners
                else None,
            }
            if parts["title"] is None or parts["title"] < 0.5:
                continue
            score = sum(_WEIGHTS[k] * (0.5 if v is None else v) for k, v in parts.items())
            if score >= self._threshold and (best is None or score > best.confidence):
                evidence = tuple(f"{k} {v:.2f}" for k, v in parts.items() if v is not None)
                best = Match(known, round(min(score, MAX_FUZZY), 3), "scored", evidence)
        return best
