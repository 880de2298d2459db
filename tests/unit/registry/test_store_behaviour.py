"""One behaviour suite for the registry's store, run on SQLite and on PostgreSQL.

Every test takes the `database` fixture (tests/unit/registry/conftest.py): a migrated,
empty store of one dialect or the other, private to the test.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import pytest

from services.registry.commands import Idempotency
from services.registry.db.idempotency import StoredResponse
from services.registry.db.store import REGISTRY_STORE
from services.registry.errors import ActivityWithdrawnError, IdempotencyKeyReused, VersionMismatch
from services.registry.query import ActivityQuery
from shared import Conflict, NotFound
from shared.db import Database, available, migrate
from shared.domain import Activity
from shared.events import GoalTag, SdgTagsAssigned
from tests.unit.registry.store import T0, Store, body_of, fields, render


@pytest.fixture
def store(database: Database) -> Store:
    return Store(database)


def tags(activity_id: str, version: int, *goals: int) -> SdgTagsAssigned:
    return SdgTagsAssigned(
        activity_id=activity_id,
        activity_version=version,
        model_id="sdg-test-1",
        outcome="tagged",
        language="en",
        goals=[GoalTag(goal=g, score=0.9, decision="assigned") for g in goals]
        + [GoalTag(goal=17, score=0.1, decision="rejected")],
    )


# --- schema ---------------------------------------------------------------------------------


async def test_migrations_are_applied_once(database: Database) -> None:
    assert await migrate(database, REGISTRY_STORE) == [], (
        "the fixture already migrated: nothing is pending"
    )
    async with database.read() as conn:
        rows = await conn.fetch("SELECT version, name FROM schema_migrations ORDER BY version")
    shipped = [(v, name) for v, name, _ in available(REGISTRY_STORE.migrations, database.dialect)]
    assert [(int(r[0]), r[1]) for r in rows] == shipped
    assert await database.ping()


# --- activities: create, read, update with a version check, history ------------------------


async def test_create_stores_version_1_its_history_and_one_outbox_row(store: Store) -> None:
    created = await store.create(actor="rb-africa")

    assert created.id == f"TA-{T0.year}-000001"
    assert created.version == 1
    assert created.iati_identifier == f"XI-IATI-WIPO-{created.id}"
    assert created.created_by == created.updated_by == "rb-africa"
    assert await store.activities.get(created.id) == created
    assert await store.activities.get("TA-2026-999999") is None

    [entry] = await store.activities.history(created.id)
    assert (entry.version, entry.actor, entry.change) == (1, "rb-africa", "registered")
    assert {"title", "category", "beneficiaries"} <= set(entry.changed_fields)
    assert await store.activities.version(created.id, 1) == created

    [row] = await store.outbox.pending(10)
    assert row.activity_id == created.id
    assert row.event_type == "org.wipo.tabridge.activity.registered.v1"
    event = body_of(row.body)
    assert event["version"] == 1
    assert event["state"]["id"] == created.id
    assert store.commits == 1, "the relay is woken once per commit"


async def test_updates_check_the_version_and_keep_every_version(store: Store) -> None:
    created = await store.create()

    patched = await store.commands.patch(
        created.id, {"stage": "implementation"}, expected_version=1, actor="editor"
    )
    assert (patched.version, patched.stage.value) == (2, "implementation")
    with pytest.raises(VersionMismatch) as stale:
        await store.commands.patch(created.id, {"gender_marker": 2}, expected_version=1, actor="x")
    assert stale.value.current == 2
    replaced = await store.commands.replace(
        created.id, fields(status="finalisation"), expected_version=2, actor="editor"
    )
    assert replaced.version == 3
    unchanged = await store.commands.patch(
        created.id, {"status": "finalisation"}, expected_version=None, actor="editor"
    )
    assert unchanged == replaced, "a change that changes nothing writes no version"

    history = await store.activities.history(created.id)
    assert [(h.version, h.change) for h in history] == [
        (1, "registered"),
        (2, "updated"),
        (3, "updated"),
    ]
    assert history[1].changed_fields == ["stage"]
    assert "status" in history[2].changed_fields
    assert [h.changed_at for h in history] == sorted(h.changed_at for h in history)
    assert await store.activities.version(created.id, 1) == created
    assert await store.activities.version(created.id, 2) == patched
    assert await store.activities.version(created.id, 4) is None
    assert await store.activities.get(created.id) == replaced
    assert len(await store.outbox.pending(10)) == 3, "one event per version, none for the no-op"


async def test_the_table_refuses_to_overwrite_a_version_it_was_not_given(store: Store) -> None:
    created = await store.create()
    newer = created.model_copy(update={"version": 2})
    async with store.db.transaction() as conn:
        written = await store.activities.update(
            conn, newer, expected_version=5, change="updated", changed=["title"]
        )
    assert written is False
    assert await store.activities.get(created.id) == created
    assert [h.version for h in await store.activities.history(created.id)] == [1]


async def test_concurrent_updates_of_one_version_let_exactly_one_win(store: Store) -> None:
    created = await store.create()
    results = await asyncio.gather(
        *(
            store.commands.patch(
                created.id, {"gender_marker": marker}, expected_version=1, actor=f"e{marker}"
            )
            for marker in (0, 2)
        ),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, Activity)]
    losers = [r for r in results if isinstance(r, VersionMismatch)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert await store.activities.get(created.id) == winners[0]
    assert [h.version for h in await store.activities.history(created.id)] == [1, 2]


async def test_concurrent_creates_get_distinct_numbers(store: Store) -> None:
    created = await asyncio.gather(*(store.create(actor=f"a{i}") for i in range(12)))
    ids = sorted(a.id for a in created)
    assert ids == [f"TA-{T0.year}-{n:06d}" for n in range(1, 13)]
    assert len(await store.outbox.pending(100)) == 12


async def test_a_withdrawn_activity_is_read_only(store: Store) -> None:
    created = await store.create()
    withdrawn = await store.commands.withdraw(
        created.id, "duplicate of another request", expected_version=1, actor="admin"
    )
    assert withdrawn.version == 2
    assert withdrawn.status.value == "withdrawn"
    with pytest.raises(ActivityWithdrawnError):
        await store.commands.patch(created.id, {"gender_marker": 2}, expected_version=2, actor="x")
    with pytest.raises(NotFound):
        await store.commands.withdraw("TA-2026-424242", "no such", expected_version=None, actor="x")
    rows = await store.outbox.pending(10)
    assert [r.event_type for r in rows] == [
        "org.wipo.tabridge.activity.registered.v1",
        "org.wipo.tabridge.activity.withdrawn.v1",
    ]
    assert body_of(rows[1].body)["reason"] == "duplicate of another request"


# --- the outbox ----------------------------------------------------------------------------


async def test_a_failed_transaction_leaves_neither_the_change_nor_its_event(store: Store) -> None:
    def broken(activity: Activity, state: bytes) -> StoredResponse:
        raise RuntimeError("the response could not be rendered")

    with pytest.raises(RuntimeError):
        await store.commands.create(fields(), actor="staff", render=broken, idempotency=None)

    assert await store.outbox.pending(10) == []
    assert await store.outbox.backlog() == (0, None)
    page, _ = await store.activities.list(ActivityQuery())
    assert page == []
    assert store.commits == 0
    again = await store.create()
    assert again.id == f"TA-{T0.year}-000001", "the number drawn by the failed create rolled back"


async def test_pending_rows_come_in_commit_order_until_marked_published(store: Store) -> None:
    first = await store.create()
    second = await store.create()
    for version, marker in ((1, 0), (2, 2)):
        await store.commands.patch(
            first.id, {"gender_marker": marker}, expected_version=version, actor="e"
        )
    await store.commands.patch(second.id, {"gender_marker": 0}, expected_version=1, actor="e")

    rows = await store.outbox.pending(100)
    assert [(r.activity_id, body_of(r.body)["version"]) for r in rows] == [
        (first.id, 1),
        (second.id, 1),
        (first.id, 2),
        (first.id, 3),
        (second.id, 2),
    ]
    assert [r.seq for r in rows] == sorted(r.seq for r in rows)
    assert len({r.event_id for r in rows}) == 5
    assert all(str(uuid.UUID(r.event_id)) == r.event_id for r in rows)
    assert [r.created_at for r in rows] == sorted(r.created_at for r in rows)
    assert await store.outbox.backlog() == (5, rows[0].created_at)

    assert await store.outbox.pending(2) == rows[:2]
    await store.outbox.mark_published([r.seq for r in rows[:2]])
    await store.outbox.mark_published([])
    assert await store.outbox.pending(100) == rows[2:]
    assert await store.outbox.backlog() == (3, rows[2].created_at)
    await store.outbox.mark_published([r.seq for r in rows[2:]])
    assert await store.outbox.pending(100) == []
    assert await store.outbox.backlog() == (0, None)


# --- idempotency keys ----------------------------------------------------------------------


async def test_an_idempotency_key_replays_the_first_response(store: Store) -> None:
    key = Idempotency(key="import-2026-03-01", request_hash="h1")
    first, replayed = await store.commands.create(
        fields(), actor="staff", render=render, idempotency=key
    )
    assert not replayed
    again, replayed = await store.commands.create(
        fields(), actor="staff", render=render, idempotency=key
    )
    assert replayed
    assert (again.status, again.body, again.headers) == (first.status, first.body, first.headers)
    assert again.request_hash == "h1"
    with pytest.raises(IdempotencyKeyReused):
        await store.commands.create(
            fields(), actor="staff", render=render, idempotency=Idempotency(key.key, "h2")
        )
    other, replayed = await store.commands.create(
        fields(), actor="another-client", render=render, idempotency=key
    )
    assert not replayed, "keys are scoped to the caller"
    assert other.body != first.body
    assert len(await store.outbox.pending(10)) == 2, "a replay publishes nothing"


async def test_stored_responses_round_trip(store: Store) -> None:
    response = StoredResponse("hash", 201, b'{"id": "TA-2026-000001"}', {"ETag": '"1"'})
    async with store.db.transaction() as conn:
        assert await store.idempotency.find(conn, "p", "k") is None
        await store.idempotency.save(conn, "p", "k", response)
    async with store.db.read() as conn:
        assert await store.idempotency.find(conn, "p", "k") == response
        assert await store.idempotency.find(conn, "q", "k") is None


# --- API keys ------------------------------------------------------------------------------


async def test_api_keys_are_stored_hashed_found_listed_and_revoked(store: Store) -> None:
    key = await store.keys.create("rb-asia", frozenset({"read", "write"}))
    assert key.startswith("tbk_")
    found = await store.keys.find(key)
    assert found is not None
    assert (found.name, found.scopes, found.revoked_at) == (
        "rb-asia",
        frozenset({"read", "write"}),
        None,
    )
    assert await store.keys.find(key + "x") is None
    async with store.db.read() as conn:
        stored = await conn.fetch("SELECT key_hash FROM api_keys")
    assert key not in {r[0] for r in stored}, "only the hash is kept"

    given = await store.keys.create("demo", frozenset({"admin"}), key="tbk_demo-key")
    assert given == "tbk_demo-key"
    with pytest.raises(Conflict):
        await store.keys.create("demo", frozenset({"read"}))
    with pytest.raises(ValueError, match="scopes"):
        await store.keys.create("bad", frozenset({"superuser"}))
    with pytest.raises(ValueError, match="scopes"):
        await store.keys.create("empty", frozenset())

    await store.keys.revoke("rb-asia")
    assert await store.keys.find(key) is None
    listed = await store.keys.list()
    assert [k.name for k in listed] == ["demo", "rb-asia"]
    assert listed[0].revoked_at is None and listed[1].revoked_at is not None
    with pytest.raises(NotFound):
        await store.keys.revoke("rb-asia")
    with pytest.raises(NotFound):
        await store.keys.revoke("nobody")


# --- computed tags -------------------------------------------------------------------------


async def test_computed_tags_keep_the_latest_version_and_filter_like_curated_ones(
    store: Store,
) -> None:
    tagged = await store.create(sdg={"goals": [9], "targets": []})
    other = await store.create(sdg={"goals": [9], "targets": []})

    assert await store.computed.save(tags(tagged.id, 1, 4))
    assert await store.computed.get_many([tagged.id, other.id]) == {
        tagged.id: tags(tagged.id, 1, 4)
    }
    assert await store.computed.get_many([]) == {}
    assert await store.computed.save(tags("TA-2026-999999", 1, 4)) is False, "unknown activity"

    async def sdg(goal: int) -> list[str]:
        page, _ = await store.activities.list(ActivityQuery(sdgs=(goal,)))
        return [a.id for _, a in page]

    assert await sdg(4) == [tagged.id]
    assert await sdg(9) == [tagged.id, other.id]
    assert await sdg(17) == [], "rejected goals are not assigned"

    await store.commands.patch(tagged.id, {"gender_marker": 2}, expected_version=1, actor="e")
    assert await sdg(4) == [tagged.id], "a new version keeps the tagger's facets"
    assert await store.computed.save(tags(tagged.id, 2, 5))
    assert await sdg(4) == []
    assert await sdg(5) == [tagged.id]
    assert await store.computed.save(tags(tagged.id, 1, 6)) is False, "older than the stored"
    assert (await store.computed.get_many([tagged.id]))[tagged.id].activity_version == 2
    assert await sdg(6) == []

    curated = tags(other.id, 1).model_copy(
        update={"goals": [GoalTag(goal=12, score=1.0, decision="curated")]}
    )
    assert await store.computed.save(curated)
    assert await sdg(12) == [other.id], "a curated decision counts like an assigned one"


async def test_a_run_of_tag_results_is_saved_in_order_in_one_transaction(store: Store) -> None:
    first = await store.create(sdg={"goals": [9], "targets": []})
    second = await store.create(sdg={"goals": [9], "targets": []})
    await store.commands.patch(first.id, {"gender_marker": 2}, expected_version=1, actor="e")

    kept = await store.computed.save_many(
        [
            tags(first.id, 1, 4),
            tags(first.id, 2, 5),  # later version in the same run: wins
            tags(first.id, 1, 6),  # older than the one just saved: refused
            tags("TA-2026-999999", 1, 4),  # unknown activity
            tags(second.id, 1, 7),
        ]
    )
    assert kept == [True, True, False, False, True]
    stored = await store.computed.get_many([first.id, second.id])
    assert stored == {first.id: tags(first.id, 2, 5), second.id: tags(second.id, 1, 7)}
    assert await store.computed.save_many([]) == []


# --- listing with filters and cursors ------------------------------------------------------


async def test_listing_pages_in_creation_order_with_a_cursor(store: Store) -> None:
    created = [await store.create(title={"en": f"Activity {n}"}) for n in range(7)]
    seen: list[str] = []
    after, pages = 0, 0
    while True:
        page, more = await store.activities.list(ActivityQuery(after_number=after, limit=3))
        pages += 1
        seen.extend(a.id for _, a in page)
        if not more:
            break
        after = page[-1][0]
    assert seen == [a.id for a in created]
    assert pages == 3
    page, more = await store.activities.list(ActivityQuery(after_number=7))
    assert (page, more) == ([], False)
    page, more = await store.activities.list(ActivityQuery(limit=7))
    assert len(page) == 7 and not more
    assert [number for number, _ in page] == list(range(1, 8))


async def test_filters_combine_with_and_and_their_values_with_or(store: Store) -> None:
    kenya = await store.create(
        title={"en": "TISC network for Kenya, 100% online"},
        beneficiaries=[{"country": "KE"}],
        regional_communities=["EAC"],
        category="capacity_building",
        partners=[{"name": "WHO", "kind": "un_entity", "role": "cooperating"}],
        dates={"planned_start": "2026-02-01", "planned_end": "2026-12-31"},
        da_recommendations=[8],
        sdg={"goals": [3], "targets": []},
    )
    senegal = await store.create(
        title={"en": "IP office automation"},
        beneficiaries=[{"country": "SN"}],
        regional_communities=["ECOWAS"],
        category="infrastructure",
        partners=[],
        dates={"planned_start": "2027-05-01"},
        da_recommendations=[10],
        sdg={"goals": [9], "targets": []},
    )
    both = await store.create(
        title={"en": "Regional IP academy"},
        beneficiaries=[{"country": "KE"}, {"country": "SN"}],
        regional_communities=[],
        category="infrastructure",
        partners=[],
        dates={},
        da_recommendations=[],
        sdg={"goals": [], "targets": []},
    )
    withdrawn = await store.create(
        beneficiaries=[{"country": "BD"}],
        regional_communities=[],
        partners=[],
        dates={},
        da_recommendations=[],
        sdg={"goals": [], "targets": []},
    )
    await store.commands.withdraw(withdrawn.id, "cancelled", expected_version=1, actor="a")

    async def ids(**query: object) -> list[str]:
        page, _ = await store.activities.list(ActivityQuery(**query))  # type: ignore[arg-type]
        return [a.id for _, a in page]

    assert await ids(countries=("KE",)) == [kenya.id, both.id]
    assert await ids(countries=("KE", "SN")) == [kenya.id, senegal.id, both.id]
    assert await ids(countries=("KE",), categories=("infrastructure",)) == [both.id]
    assert await ids(communities=("ECOWAS",)) == [senegal.id]
    assert await ids(partners=("who",)) == [kenya.id], "partner names match case-blind"
    assert await ids(da_recommendations=(8, 10)) == [kenya.id, senegal.id]
    assert await ids(sdgs=(9,)) == [senegal.id]
    assert await ids(starts_from=date(2027, 1, 1)) == [senegal.id]
    assert await ids(starts_to=date(2026, 6, 30)) == [kenya.id]
    assert await ids(ends_from=date(2026, 12, 1), ends_to=date(2026, 12, 31)) == [kenya.id]
    assert await ids(text="tisc") == [kenya.id]
    assert await ids(text="100%") == [kenya.id], "LIKE wildcards in the text are literal"
    assert await ids(text="%") == [kenya.id]
    assert await ids(text="_") == []
    assert await ids(statuses=("withdrawn",)) == [withdrawn.id]
    assert await ids(countries=("BD",), include_withdrawn=False) == []
    assert await ids(updated_since=senegal.updated_at) == [both.id, withdrawn.id]
    assert await ids(updated_since=T0 - timedelta(days=1), limit=2) == [kenya.id, senegal.id]


# --- leadership ----------------------------------------------------------------------------


async def test_one_leader_at_a_time(database: Database) -> None:
    name = f"test-leader-{uuid.uuid4().hex}"
    async with database.leader(name) as first:
        assert first
        async with database.leader(name) as second:
            # One SQLite file has one process: it always leads. PostgreSQL has replicas.
            assert second is (database.dialect == "sqlite")
    async with database.leader(name) as again:
        assert again, "released on exit"
