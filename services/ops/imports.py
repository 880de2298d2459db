"""Partner-feed imports from the command line: upload a file and follow it to its end, and
decide the removals an import's removal guard held.

The upload streams the file (never read whole into memory); `on_sent` hears each chunk.
The import then runs in the service; its report carries `progress` (records and bytes read,
events published), polled every `poll_seconds` and handed to `on_progress` until the import
leaves `running`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

__all__ = ["ImportRefused", "decide_removals", "upload_and_follow"]

_CHUNK = 256 * 1024


class ImportRefused(Exception):
    """partner-feed refused the request (or did not answer); the message says why."""


async def _chunks(path: Path, on_sent: Callable[[int], None]) -> AsyncIterator[bytes]:
    sent = 0
    with path.open("rb") as body:
        while chunk := await asyncio.to_thread(body.read, _CHUNK):
            yield chunk
            sent += len(chunk)
            on_sent(sent)


async def _problem(response: aiohttp.ClientResponse) -> str:
    try:
        body = await response.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return f"HTTP {response.status}"
    if isinstance(body, dict):
        return f"HTTP {response.status}: {body.get('detail') or body.get('title')}"
    return f"HTTP {response.status}"


async def upload_and_follow(
    feed_url: str,
    path: Path,
    *,
    partner: str,
    key: str,
    source_format: str | None = None,
    on_sent: Callable[[int], None] = lambda _: None,
    on_progress: Callable[[dict[str, Any]], None] = lambda _: None,
    poll_seconds: float = 0.5,
    read_seconds: float = 60.0,
) -> dict[str, Any]:
    """Upload `path` as `partner`'s export and return the finished import report.

    Raises:
        ImportRefused: the upload or a report request was refused or did not answer.
    """
    auth = {"Authorization": f"Bearer {key}"}
    params = {"partner": partner, **({"format": source_format} if source_format else {})}
    client_timeout = aiohttp.ClientTimeout(
        total=None, sock_connect=read_seconds, sock_read=read_seconds
    )
    try:
        async with aiohttp.ClientSession(timeout=client_timeout) as http:
            async with http.post(
                f"{feed_url}/v1/imports",
                params=params,
                data=_chunks(path, on_sent),
                headers={**auth, "Content-Type": "application/octet-stream"},
            ) as response:
                if response.status != 202:
                    raise ImportRefused(f"upload of {path.name}: {await _problem(response)}")
                started: dict[str, Any] = await response.json()
            url = f"{feed_url}/v1/imports/{quote(str(started['id']), safe='')}"
            while True:
                async with http.get(url, params={"limit": "1"}, headers=auth) as response:
                    if response.status != 200:
                        raise ImportRefused(f"import report: {await _problem(response)}")
                    report: dict[str, Any] = await response.json()
                on_progress(report)
                if report.get("status") != "running":
                    return report
                await asyncio.sleep(poll_seconds)
    except aiohttp.ClientError as exc:
        raise ImportRefused(f"partner-feed at {feed_url}: {exc}") from exc


async def decide_removals(
    feed_url: str, import_id: str, decision: str, *, key: str, total_seconds: float = 300.0
) -> dict[str, Any]:
    """Apply or discard the removals held for `import_id` (an operator key is needed).

    Raises:
        ImportRefused: refused (not held, not an operator key, unknown import) or no answer.
    """
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=total_seconds)) as http,
            http.post(
                f"{feed_url}/v1/imports/{quote(import_id, safe='')}/held-removals",
                json={"decision": decision},
                headers={"Authorization": f"Bearer {key}"},
            ) as response,
        ):
            if response.status != 200:
                raise ImportRefused(f"decision on {import_id}: {await _problem(response)}")
            report: dict[str, Any] = await response.json()
            return report
    except aiohttp.ClientError as exc:
        raise ImportRefused(f"partner-feed at {feed_url}: {exc}") from exc
