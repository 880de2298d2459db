"""Redriving a subscription's failed webhook deliveries through the notifier's own API.

`POST /v1/subscriptions/{id}/redrive` (see `services.notifier.views`) queues the latest
generation of each failed delivery again, with the same webhook-id (with `since`: every
delivered or failed one accepted since then). It needs the owning partner's API key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import aiohttp

__all__ = ["RedriveRefused", "WebhookRedrive", "redrive_webhooks"]


class RedriveRefused(Exception):
    """The notifier refused the redrive (or did not answer); the message says why."""


@dataclass(frozen=True, slots=True)
class WebhookRedrive:
    subscription: str
    redriven: int
    webhook_ids: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "subscription": self.subscription,
            "redriven": self.redriven,
            "webhook_ids": self.webhook_ids,
        }


async def redrive_webhooks(
    notifier_url: str,
    subscription: str,
    *,
    api_key: str,
    since: datetime | None = None,
    seconds: float = 30.0,
) -> WebhookRedrive:
    """Ask the notifier to redrive `subscription`'s deliveries.

    Raises:
        RedriveRefused: with the problem's title and detail, or the connection error.
    """
    url = f"{notifier_url.rstrip('/')}/v1/subscriptions/{quote(subscription, safe='')}/redrive"
    body = {} if since is None else {"since": since.isoformat()}
    timeout = aiohttp.ClientTimeout(total=seconds)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(url, json=body, headers={"Authorization": f"Bearer {api_key}"}) as resp,
        ):
            document = await resp.json(content_type=None)
            status = resp.status
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise RedriveRefused(f"{url}: {exc or type(exc).__name__}") from exc
    if status != 202 or not isinstance(document, dict):
        detail = document if not isinstance(document, dict) else document.get("detail")
        title = document.get("title") if isinstance(document, dict) else None
        raise RedriveRefused(f"HTTP {status}: {title or 'refused'}: {detail or ''}".rstrip(": "))
    return WebhookRedrive(
        subscription, int(document.get("redriven", 0)), list(document.get("webhook_ids", []))
    )
