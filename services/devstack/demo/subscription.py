"""The demo's webhook subscription at the notifier: created at start, deleted at the end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from services.devstack.errors import StackError

DESCRIPTION = "make run: local demo receiver"


@dataclass(frozen=True, slots=True)
class Subscribed:
    id: str
    secret: str
    communities: tuple[str, ...]


class NotifierClient:
    def __init__(self, http: aiohttp.ClientSession, base_url: str, key: str) -> None:
        self._http = http
        self._base = base_url
        self._auth = {"Authorization": f"Bearer {key}"}

    async def subscribe(
        self, url: str, *, communities: tuple[str, ...], description: str = DESCRIPTION
    ) -> Subscribed:
        """Every event type about the given regional communities, delivered to `url`."""
        body = {
            "url": url,
            "event_types": ["*"],
            "filters": {"communities": list(communities)},
            "description": description,
        }
        async with self._http.post(
            f"{self._base}/v1/subscriptions", json=body, headers=self._auth
        ) as response:
            if response.status != 201:
                raise StackError(
                    f"notifier refused the subscription: HTTP {response.status} "
                    f"{await response.text()}"
                )
            created: dict[str, Any] = await response.json()
        return Subscribed(created["id"], created["secret"], communities)

    async def remove_stale(self, description: str) -> int:
        """Delete this partner's subscriptions described as `description` (left behind by a
        run that did not stop cleanly); how many were deleted."""
        async with self._http.get(
            f"{self._base}/v1/subscriptions", params={"limit": "500"}, headers=self._auth
        ) as response:
            if response.status != 200:
                return 0
            listing: dict[str, Any] = await response.json()
        stale = [s["id"] for s in listing["items"] if s.get("description") == description]
        for subscription_id in stale:
            await self.unsubscribe(subscription_id)
        return len(stale)

    async def unsubscribe(self, subscription_id: str) -> None:
        """Delete the subscription; a notifier that is already gone is not an error."""
        try:
            async with self._http.delete(
                f"{self._base}/v1/subscriptions/{subscription_id}", headers=self._auth
            ):
                pass
        except aiohttp.ClientError:
            return
