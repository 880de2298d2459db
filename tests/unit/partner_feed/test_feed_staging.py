"""The import staging table on a real SQLite store: what a file said, before publication."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.partner_feed.db.database import Store
from services.partner_feed.db.staging import StagedRow, StagingTable

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(str(tmp_path / "feed.db"))
    try:
        yield opened
    finally:
        await opened.close()


def _new(record_id: str) -> StagedRow:
    return StagedRow(record_id, "new", f"h-{record_id}", f'{{"record_id": "{record_id}"}}')


async def _records(store: Store) -> list[str]:
    async with store.db.execute("SELECT record_id FROM partner_records ORDER BY 1") as cursor:
        return [r[0] for r in await cursor.fetchall()]


async def test_an_accepted_record_replaces_a_quarantined_mention_not_the_reverse(
    store: Store,
) -> None:
    staging = StagingTable(store.db)
    await staging.stage("imp", 1, [StagedRow("a", "quarantined"), _new("a"), _new("b")])
    await staging.stage("imp", 4, [StagedRow("b", "quarantined")])
    assert await staging.kinds("imp", ["a", "b", "c"]) == {"a": "new", "b": "new"}
    assert [(c.seq, c.record_id) for c in await staging.changes("imp", 0, 10)] == [
        (2, "a"),
        (3, "b"),
    ]


async def test_changes_are_applied_one_batch_at_a_time(store: Store) -> None:
    staging = StagingTable(store.db)
    await staging.stage("imp", 1, [_new("a"), _new("b"), StagedRow("c", "unchanged"), _new("d")])
    first = await staging.changes("imp", 0, 2)
    assert [c.record_id for c in first] == ["a", "b"]
    await staging.apply_changes("p", "imp", 0, first[-1].seq)
    assert await _records(store) == ["a", "b"]
    rest = await staging.changes("imp", first[-1].seq, 2)
    assert [c.record_id for c in rest] == ["d"]
    await staging.apply_changes("p", "imp", first[-1].seq, rest[-1].seq)
    assert await _records(store) == ["a", "b", "d"]


async def test_removals_are_the_records_the_import_did_not_mention(store: Store) -> None:
    staging = StagingTable(store.db)
    await staging.stage("old", 1, [_new(x) for x in "abcd"])
    await staging.apply_changes("p", "old", 0, 4)
    await staging.stage("imp", 1, [StagedRow("a", "unchanged"), StagedRow("b", "quarantined")])
    assert await staging.existing("p") == 4
    assert await staging.count_removals("p", "imp") == 2
    assert [r.record_id for r in await staging.removals("p", "imp", 1)] == ["c"]
    assert await staging.count_removals("other-partner", "imp") == 0
    await staging.clear("imp")
    assert await staging.count_removals("p", "imp") == 4
