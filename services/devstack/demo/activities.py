"""Demo activities over the registry's HTTP API, and the demo's one traced change.

Seeding is idempotent: an activity whose English title is already registered is not posted
again, so `make run` can be repeated on the same state directory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from services.devstack.demo.tracing import TraceStart
from services.devstack.errors import StackError

CONSULTATIONS = "Stakeholder consultations held"


@dataclass(frozen=True, slots=True)
class Seeded:
    id: str
    title: str
    created: bool
    trace_id: str | None


@dataclass(frozen=True, slots=True)
class Change:
    """One update, made under a trace of our own."""

    activity_id: str
    title: str
    version: int
    trace_id: str
    summary: str


def load_documents(path: Path) -> list[dict[str, Any]]:
    """The activity documents of a demo file (a JSON list of `ActivityFields`)."""
    documents = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(documents, list):
        raise StackError(f"{path}: expected a JSON list of activities")
    return documents


class RegistryClient:
    """The few registry calls the demo makes, with the admin key."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str, key: str) -> None:
        self._http = http
        self._base = base_url
        self._auth = {"Authorization": f"Bearer {key}"}

    async def titles(self) -> dict[str, str]:
        """English title -> id of every registered activity (all pages)."""
        found: dict[str, str] = {}
        cursor: str | None = None
        while True:
            params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
            body = await self._json("GET", "/v1/activities", params=params)
            for item in body["items"]:
                found.setdefault(item["title"].get("en", ""), item["id"])
            cursor = body.get("next_cursor")
            if not cursor:
                return found

    async def create(self, document: dict[str, Any], trace: TraceStart) -> dict[str, Any]:
        return await self._json("POST", "/v1/activities", json=document, headers=trace.headers())

    async def get(self, activity_id: str) -> dict[str, Any]:
        return await self._json("GET", f"/v1/activities/{activity_id}")

    async def patch(
        self, activity_id: str, patch: dict[str, Any], *, version: int, trace: TraceStart
    ) -> dict[str, Any]:
        headers = {"If-Match": f'"{version}"', **trace.headers()}
        return await self._json(
            "PATCH", f"/v1/activities/{activity_id}", json=patch, headers=headers
        )

    async def _json(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        async with self._http.request(
            method,
            self._base + path,
            json=json,
            params=params,
            headers={**self._auth, **(headers or {})},
        ) as response:
            if response.status >= 300:
                raise StackError(
                    f"registry {method} {path}: HTTP {response.status} {await response.text()}"
                )
            body: dict[str, Any] = await response.json()
            return body


async def seed(registry: RegistryClient, documents: list[dict[str, Any]]) -> list[Seeded]:
    """Register each document not yet registered (by English title), each in its own trace."""
    existing = await registry.titles()
    seeded: list[Seeded] = []
    for document in documents:
        title = document["title"]["en"]
        if title in existing:
            seeded.append(Seeded(existing[title], title, created=False, trace_id=None))
            continue
        trace = TraceStart.new()
        created = await registry.create(document, trace)
        seeded.append(Seeded(created["id"], title, created=True, trace_id=trace.trace_id))
    return seeded


async def record_consultation(registry: RegistryClient, activity_id: str) -> Change:
    """The demo change: one more stakeholder consultation on the activity's indicator.

    A merge patch replaces lists whole, so the indicators are sent back in full, with the
    counter raised by one (added if the activity has no such indicator).
    """
    current = await registry.get(activity_id)
    indicators: list[dict[str, Any]] = list(current["monitoring"]["indicators"])
    for indicator in indicators:
        if indicator["name"] == CONSULTATIONS:
            indicator["actual"] = (indicator.get("actual") or 0) + 1
            held = indicator["actual"]
            break
    else:
        held = 1
        indicators.append({"name": CONSULTATIONS, "unit": "consultations", "actual": held})
    trace = TraceStart.new()
    updated = await registry.patch(
        activity_id,
        {"monitoring": {"indicators": indicators}},
        version=int(current["version"]),
        trace=trace,
    )
    return Change(
        activity_id=activity_id,
        title=current["title"].get("en", activity_id),
        version=int(updated["version"]),
        trace_id=trace.trace_id,
        summary=f"stakeholder consultation no. {int(held)} recorded",
    )
