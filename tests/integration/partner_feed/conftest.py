"""A partner-feed service per test, on the memory twin or the real broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from services.partner_feed.partners import hash_key
from shared import Transport
from tests.support.operator import OPERATOR_KEY as SHARED_OPERATOR_KEY
from tests.unit.partner_feed.harness import FeedService, start_feed_service

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
IATI_FILES = sorted((SHARED_DATA / "iati" / "examples").glob("*.xml")) + sorted(
    (SHARED_DATA / "iati" / "publishers").glob("*.xml")
)
EXAMPLE_203 = SHARED_DATA / "iati" / "examples" / "activity-standard-example-annotated-2.03.xml"
SCHEMA = SHARED_DATA / "iati" / "schema-2.03" / "iati-activities-schema.xsd"
OPERATOR_KEY = "operator-key-for-tests"
"""The key that decides held removals: one of the service's TABRIDGE_OPERATOR_KEYS."""


def read(path: Path) -> bytes:
    return path.read_bytes()


def leftovers(folder: Path) -> list[Path]:
    """Spooled upload files still on disk."""
    return list(folder.glob("partner-feed-*.part"))


@pytest.fixture
async def service(tmp_path: Path, transport: Transport, unique: str) -> AsyncIterator[FeedService]:
    svc = await start_feed_service(
        tmp_path,
        transport,
        f"pf{unique}",
        partners=({"id": "unctad"}, {"id": "eac"}),
        TABRIDGE_OPERATOR_KEYS=f"{SHARED_OPERATOR_KEY},sha256:{hash_key(OPERATOR_KEY)}",
    )
    try:
        yield svc
    finally:
        await svc.close()


async def decide(service: FeedService, import_id: str, decision: str) -> tuple[int, Any]:
    """An operator's decision on an import's held removals."""
    async with service.http.post(
        service.url(f"/v1/imports/{import_id}/held-removals"),
        json={"decision": decision},
        headers={"Authorization": f"Bearer {OPERATOR_KEY}"},
    ) as resp:
        return resp.status, orjson.loads(await resp.read())
