"""The outbound feeds can never be emitted half-way, and CSV cells cannot run formulas.

A stored activity that cannot be rendered (text XML 1.0 cannot hold, written before the
registry refused it) is left out and counted; the document is built before the first byte
is sent, so what arrives is always complete and well-formed.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import orjson
import pytest
from lxml import etree

from tests.support.waiting import eventually
from tests.unit.partner_feed.harness import FeedService, make_activity, registered

pytestmark = pytest.mark.timeout(120)

#: Titles are stripped of surrounding whitespace when written, so tab and CR cannot lead.
FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", '=HYPERLINK("http://x")']


async def _feed_count(service: FeedService, name: str, n: int) -> bytes:
    async def probe() -> bytes | None:
        _, body, headers = await service.feed(name)
        return body if int(headers["X-Feed-Items"]) == n else None

    found: bytes = await eventually(probe, message=f"{n} activities in {name}")
    return found


def _corrupt(db_path: Path, activity_id: str) -> None:
    """Write a control character into a stored state, as an older writer could have."""
    with sqlite3.connect(db_path) as db:
        (state,) = db.execute(
            "SELECT state FROM feed_activities WHERE activity_id = ?", (activity_id,)
        ).fetchone()
        doc = orjson.loads(state)
        doc["title"]["en"] = "broken \u0000 title"
        db.execute(
            "UPDATE feed_activities SET state = ? WHERE activity_id = ?",
            (orjson.dumps(doc).decode(), activity_id),
        )


async def test_an_unrenderable_stored_activity_is_left_out_never_truncating(
    service: FeedService, tmp_path: Path
) -> None:
    activities = [make_activity(n) for n in (1, 2, 3)]
    await service.publish([registered(a) for a in activities])
    await _feed_count(service, "iati.xml", 3)
    _corrupt(tmp_path / "partner-feed.db", activities[1].id)

    status, body, headers = await service.feed("iati.xml")
    assert status == 200
    assert headers["Content-Length"] == str(len(body))
    document = etree.fromstring(body)  # well-formed, or this raises
    identifiers = sorted(str(e.text) for e in document.iter("iati-identifier"))
    assert identifiers == [activities[0].iati_identifier, activities[2].iati_identifier]
    assert (headers["X-Feed-Items"], headers["X-Feed-Skipped"]) == ("2", "1")
    for name in ("tfm.json", "tfm.csv"):
        status, _, headers = await service.feed(name)
        assert (status, headers["X-Feed-Skipped"]) == (200, "1")


async def test_csv_feed_neutralises_formula_cells_and_json_keeps_them(
    service: FeedService,
) -> None:
    activities = [make_activity(n, title={"en": text}) for n, text in enumerate(FORMULAS, 1)]
    await service.publish([registered(a) for a in activities])
    body = await _feed_count(service, "tfm.csv", len(FORMULAS))

    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))
    cells = {cell for row in rows for cell in row.values()}
    assert {"'" + text for text in FORMULAS} <= cells
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    _, json_body, _ = await service.feed("tfm.json")
    titles_json = sorted(r["titles"]["en"] for r in orjson.loads(json_body))
    assert titles_json == sorted(FORMULAS)
