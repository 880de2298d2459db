"""The code lists the domain validates against, read once from package data.

Countries come from ISO 3166-1 (via the IATI Country codelist, see
`tools/build_country_list.py`); regional communities and development status are
maintained by the project in `shared/codelists/`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

DevelopmentStatus = Literal["developing", "ldc", "in_transition"]


@dataclass(frozen=True, slots=True)
class Community:
    code: str
    name: str
    members: frozenset[str]


@dataclass(frozen=True, slots=True)
class Codelists:
    countries: dict[str, str]
    communities: dict[str, Community]
    ldc: frozenset[str]
    in_transition: frozenset[str]
    developed: frozenset[str]
    status_as_of: str

    def development_status(self, country: str) -> DevelopmentStatus | None:
        """The UN status of a country as a TA beneficiary; None for a developed economy."""
        if country in self.ldc:
            return "ldc"
        if country in self.in_transition:
            return "in_transition"
        if country in self.developed:
            return None
        return "developing"

    def members_of(self, community: str) -> frozenset[str]:
        found = self.communities.get(community)
        return found.members if found else frozenset()

    def communities_of(self, country: str) -> list[str]:
        return sorted(c.code for c in self.communities.values() if country in c.members)


def _read(name: str) -> dict[str, Any]:
    text = resources.files("shared.codelists").joinpath(name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def load_codelists() -> Codelists:
    """The code lists shipped with ta-bridge (read once; immutable)."""
    countries = _read("countries.json")["countries"]
    communities_doc = _read("communities.json")["communities"]
    status = _read("development_status.json")
    return Codelists(
        countries=dict(countries),
        communities={
            code: Community(code, body["name"], frozenset(body["members"]))
            for code, body in communities_doc.items()
        },
        ldc=frozenset(status["ldc"]),
        in_transition=frozenset(status["in_transition"]),
        developed=frozenset(status["developed"]),
        status_as_of=status["as_of"],
    )
