"""Filters and cursor pagination over 10,000 activities, and bulk import reports."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from shared import MemoryTransport
from tests.integration.registry.conftest import Registry, start_registry
from tests.support.activities import activity_doc

COUNTRIES = ["KE", "UG", "TZ", "GH", "SN", "BD", "KH", "PE", "CO", "UZ"]
CATEGORIES = [
    "national_ip_strategy",
    "infrastructure",
    "capacity_building",
    "legislative_assistance",
    "da_project",
    "public_private_partnership",
]


def generated(n: int, rng: random.Random) -> dict[str, Any]:
    countries = rng.sample(COUNTRIES, rng.randint(1, 3))
    start = f"202{rng.randint(3, 7)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
    return activity_doc(
        title={"en": f"Activity {n} {'TISC network' if n % 7 == 0 else 'IP office automation'}"},
        beneficiaries=[{"country": c} for c in countries],
        regional_communities=[],
        category=CATEGORIES[n % len(CATEGORIES)],
        sdg={"goals": [1 + n % 17], "targets": []},
        da_recommendations=[1 + n % 45],
        dates={"planned_start": start},
    )


@pytest.fixture(scope="module")
async def loaded(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Registry, list[dict[str, Any]]]]:
    rng = random.Random(20261125)
    docs = [generated(n, rng) for n in range(10_000)]
    reg, _ = await start_registry(tmp_path_factory.mktemp("reg10k"), MemoryTransport(), "q10k")
    body = b"\n".join(orjson.dumps(d) for d in docs)
    status, report, _ = await reg.call(
        "POST",
        "/v1/activities/bulk?mode=atomic",
        data=io.BytesIO(body),
        headers={"Content-Type": "application/x-ndjson"},
    )
    assert status == 200, report
    assert len(report["created"]) == 10_000
    yield reg, docs
    await reg.http.close()
    await reg.server.close()


async def collect(reg: Registry, query: str, limit: int = 500) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        url = f"/v1/activities?{query}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        status, page, _ = await reg.call("GET", url, scope="read")
        assert status == 200, page
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.parametrize(
    ("query", "expect"),
    [
        ("country=KE", lambda d: any(b["country"] == "KE" for b in d["beneficiaries"])),
        (
            "country=KE,PE&category=infrastructure",
            lambda d: (
                d["category"] == "infrastructure"
                and any(b["country"] in {"KE", "PE"} for b in d["beneficiaries"])
            ),
        ),
        ("sdg=9&da=10", lambda d: 9 in d["sdg"]["goals"] and 10 in d["da_recommendations"]),
        ("q=tisc", lambda d: "TISC" in d["title"]["en"]),
        (
            "starts_from=2025-01-01&starts_to=2025-12-31",
            lambda d: d["dates"]["planned_start"].startswith("2025"),
        ),
        ("community=EAC", lambda d: False),
    ],
)
async def test_filters_over_ten_thousand_activities(
    loaded: tuple[Registry, list[dict[str, Any]]], query: str, expect: Any
) -> None:
    reg, docs = loaded
    found = await collect(reg, query)
    wanted = sum(1 for d in docs if expect(d))
    assert len(found) == wanted
    ids = [item["id"] for item in found]
    assert ids == sorted(ids), "stable order"
    assert len(set(ids)) == len(ids), "no item on two pages"


async def test_pagination_walks_everything_once(
    loaded: tuple[Registry, list[dict[str, Any]]],
) -> None:
    reg, docs = loaded
    found = await collect(reg, "include_withdrawn=true", limit=333)
    assert len(found) == len(docs)
    assert [f["title"]["en"] for f in found[:3]] == [d["title"]["en"] for d in docs[:3]]


async def test_csv_bulk_import_reports_every_rejected_row(memory_registry: Registry) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "title_en",
            "category",
            "countries",
            "lead_unit_kind",
            "lead_unit_name",
            "planned_start",
            "planned_end",
            "partners",
            "sdg_goals",
        ]
    )
    writer.writerow(
        [
            "TISC network for Uganda",
            "infrastructure",
            "UG",
            "programme",
            "IP for Innovation",
            "2026-01-01",
            "2026-12-31",
            "UNECA|un_entity|cooperating",
            "9;4",
        ]
    )
    writer.writerow(["", "infrastructure", "UG", "programme", "X", "", "", "", ""])
    writer.writerow(
        [
            "Judges training",
            "capacity_building",
            "US",
            "programme",
            "WIPO Academy",
            "2026-05-01",
            "2026-01-01",
            "",
            "",
        ]
    )
    body = out.getvalue().encode()
    status, report, _ = await memory_registry.call(
        "POST", "/v1/activities/bulk?mode=atomic", data=body, headers={"Content-Type": "text/csv"}
    )
    assert status == 422
    assert report["created"] == []
    assert [r["row"] for r in report["rejected"]] == [3, 4]
    assert {e["pointer"] for e in report["rejected"][0]["errors"]} == {"/title"}
    assert {e["pointer"] for e in report["rejected"][1]["errors"]} == {"/dates"}
    status, report, _ = await memory_registry.call(
        "POST", "/v1/activities/bulk?mode=per_row", data=body, headers={"Content-Type": "text/csv"}
    )
    assert status == 200
    assert [c["row"] for c in report["created"]] == [2]
    status, page, _ = await memory_registry.call(
        "GET", "/v1/activities?partner=uneca", scope="read"
    )
    assert [item["title"]["en"] for item in page["items"]] == ["TISC network for Uganda"]
    assert page["items"][0]["sdg"]["goals"] == [4, 9]


async def test_bulk_import_refuses_unknown_columns_and_media(
    memory_registry: Registry, tmp_path: Path
) -> None:
    status, report, _ = await memory_registry.call(
        "POST",
        "/v1/activities/bulk",
        data=b"titel_en,category\nx,y\n",
        headers={"Content-Type": "text/csv"},
    )
    assert report["rejected"][0]["errors"][0]["pointer"] == "/columns/titel_en"
    status, _, _ = await memory_registry.call(
        "POST", "/v1/activities/bulk", data=b"<xml/>", headers={"Content-Type": "application/xml"}
    )
    assert status == 415
