"""Fetching the services' status views (`GET /v1/status`) concurrently.

A service that does not answer, answers with an error, or answers something that is not a
status document is reported `down` with the reason; nothing here raises for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

__all__ = ["ServiceReport", "fetch_statuses"]


@dataclass(frozen=True, slots=True)
class ServiceReport:
    """One service's answer: its status document, or why there is none."""

    service: str
    url: str
    document: Mapping[str, Any] | None = None
    error: str | None = None

    @property
    def up(self) -> bool:
        return self.document is not None

    @property
    def state(self) -> str:
        """`down`, or the service's own verdict (`ok` / `degraded`)."""
        if self.document is None:
            return "down"
        return str(self.document.get("status", "unknown"))

    @property
    def warnings(self) -> list[str]:
        return [str(w) for w in (self.document or {}).get("warnings", [])]

    @property
    def well(self) -> bool:
        """Up, `ok`, and without warnings."""
        return self.state == "ok" and not self.warnings

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "url": self.url,
            "state": self.state,
            "error": self.error,
            "status": None if self.document is None else dict(self.document),
        }


async def fetch_statuses(
    urls: Mapping[str, str],
    *,
    seconds: float = 10.0,
    session: aiohttp.ClientSession | None = None,
    operator_key: str | None = None,
) -> list[ServiceReport]:
    """The status of every service in `urls` (name → base URL), in the order given.

    With `operator_key` the services answer their full document (groups, topics,
    offsets); without it, only their verdict. Each request is bounded by `seconds`; never
    raises for a service's failure.
    """
    headers = {"Authorization": f"Bearer {operator_key}"} if operator_key else {}
    own = session is None
    client = session or aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds))
    try:
        return list(
            await asyncio.gather(
                *(_fetch(client, name, url, seconds, headers) for name, url in urls.items())
            )
        )
    finally:
        if own:
            await client.close()


async def _fetch(
    client: aiohttp.ClientSession,
    service: str,
    base: str,
    seconds: float,
    headers: Mapping[str, str],
) -> ServiceReport:
    url = base.rstrip("/") + "/v1/status"
    try:
        async with asyncio.timeout(seconds), client.get(url, headers=headers) as response:
            if response.status != 200:
                return ServiceReport(service, url, error=f"HTTP {response.status} from {url}")
            document = await response.json(content_type=None)
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        return ServiceReport(service, url, error=_reason(exc, seconds))
    if not isinstance(document, dict) or "status" not in document:
        return ServiceReport(service, url, error="the answer is not a status document")
    return ServiceReport(service, url, document=document)


def _reason(exc: Exception, seconds: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {seconds:g}s"
    if isinstance(exc, aiohttp.ClientConnectorError):
        error = exc.os_error
        refused = isinstance(error, ConnectionRefusedError)
        reason = "connection refused" if refused else str(error) or type(error).__name__
        return f"cannot connect to {exc.host}:{exc.port}: {reason}"
    if isinstance(exc, aiohttp.ClientError):
        return str(exc) or type(exc).__name__
    return f"not JSON: {exc}"
