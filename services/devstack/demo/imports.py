"""Uploading the shipped partner files to partner-feed's `/v1/imports`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from services.devstack.errors import StackError

#: (partner id, file in deploy/demo-data/partners, content type); the demo partner `tfm` is
#: pulled from its source URL instead (`pull_partner`).
PARTNER_FILES: tuple[tuple[str, str, str], ...] = (
    ("unops", "unops-activities.xml", "application/xml"),
    ("eac", "eac-projects.csv", "text/csv"),
)


@dataclass(frozen=True, slots=True)
class Imported:
    partner: str
    file: str
    status: str
    counts: dict[str, int]


async def pull_partner(
    http: aiohttp.ClientSession, feed_url: str, key: str, partner: str
) -> dict[str, Any]:
    """`POST /v1/partners/{partner}/pull`: the pull's outcome. Raises StackError on refusal."""
    async with http.post(
        f"{feed_url}/v1/partners/{partner}/pull", headers={"Authorization": f"Bearer {key}"}
    ) as response:
        if response.status != 200:
            raise StackError(f"pull of {partner}: HTTP {response.status} {await response.text()}")
        outcome: dict[str, Any] = await response.json()
    return outcome


async def import_partner_files(
    http: aiohttp.ClientSession, feed_url: str, key: str, directory: Path
) -> list[Imported]:
    """Upload each file and wait for its report (`?wait=true`). Raises StackError on refusal."""
    results: list[Imported] = []
    for partner, name, content_type in PARTNER_FILES:
        async with http.post(
            f"{feed_url}/v1/imports",
            params={"partner": partner, "wait": "true"},
            data=(directory / name).read_bytes(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": content_type},
        ) as response:
            if response.status != 201:
                raise StackError(
                    f"import of {name} as {partner}: HTTP {response.status} {await response.text()}"
                )
            report: dict[str, Any] = await response.json()
        counts = {k: int(v) for k, v in report.get("counts", {}).items() if isinstance(v, int)}
        results.append(Imported(partner, name, str(report.get("status")), counts))
    return results
