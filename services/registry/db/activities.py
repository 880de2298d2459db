"""Activities, their versions and their facets, in SQL shared by both dialects."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from services.registry.query import ActivityQuery
from shared.db import Connection, Database, Dialect
from shared.domain import Activity, ActivityFields


@lru_cache(maxsize=64)
def utc_text(moment: datetime) -> str:
    """Timestamps are stored as fixed-width UTC text, so they sort as they compare."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version: int
    actor: str
    changed_at: str
    change: str
    changed_fields: list[str]


def facets_of(activity: ActivityFields) -> list[tuple[str, str]]:
    facets: set[tuple[str, str]] = set()
    facets.update(("country", c) for c in activity.countries())
    facets.update(("community", c) for c in activity.regional_communities)
    facets.update(("sdg", str(g)) for g in activity.sdg.goals)
    facets.update(("da", str(r)) for r in activity.da_recommendations)
    for partner in activity.partners:
        facets.add(("partner", partner.name.casefold()))
        if partner.ref:
            facets.add(("partner", partner.ref.casefold()))
    return sorted(facets)


def search_text(activity: ActivityFields) -> str:
    return " ".join([*activity.title.values(), *activity.description.values()]).casefold()


def _row(activity: Activity, state: str) -> tuple[Any, ...]:
    dates = activity.dates
    starts = dates.actual_start or dates.planned_start
    ends = dates.actual_end or dates.planned_end
    return (
        activity.version,
        "withdrawn" if activity.withdrawn_reason is not None else "active",
        activity.category.value,
        activity.stage.value,
        activity.status.value,
        search_text(activity),
        starts.isoformat() if starts else None,
        ends.isoformat() if ends else None,
        utc_text(activity.updated_at),
        state,
    )


class ActivityTable:
    """Reads and writes of the activity tables; writes take the caller's transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def next_number(self, conn: Connection) -> int:
        row = await conn.fetchrow(
            "UPDATE counters SET value = value + 1 WHERE name = 'activity' RETURNING value"
        )
        assert row is not None
        return int(row[0])

    async def insert(
        self,
        conn: Connection,
        number: int,
        activity: Activity,
        *,
        changed: list[str],
        state: str | None = None,
    ) -> None:
        """`state`: the activity's JSON (`Activity.model_dump_json`), if the caller has it."""
        if state is None:
            state = activity.model_dump_json()
        await conn.execute(
            "INSERT INTO activities (version, lifecycle, category, stage, status, search_text,"
            " starts_on, ends_on, updated_at, state, id, number, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*_row(activity, state), activity.id, number, utc_text(activity.created_at)),
        )
        await self._write_facets(conn, activity, number)
        await self._add_version(conn, activity, state, "registered", changed)

    async def update(
        self,
        conn: Connection,
        activity: Activity,
        *,
        expected_version: int,
        change: str,
        changed: list[str],
        state: str | None = None,
    ) -> bool:
        """Write a new version if the stored one is still `expected_version`."""
        if state is None:
            state = activity.model_dump_json()
        count = await conn.execute(
            "UPDATE activities SET version = ?, lifecycle = ?, category = ?, stage = ?, status = ?,"
            " search_text = ?, starts_on = ?, ends_on = ?, updated_at = ?, state = ?"
            " WHERE id = ? AND version = ?",
            (*_row(activity, state), activity.id, expected_version),
        )
        if count != 1:
            return False
        # Computed SDG facets belong to the tagger's results, not to this version.
        await conn.execute(
            "DELETE FROM activity_facets WHERE activity_id = ? AND facet <> 'sdg_computed'",
            (activity.id,),
        )
        row = await conn.fetchrow("SELECT number FROM activities WHERE id = ?", (activity.id,))
        assert row is not None
        await self._write_facets(conn, activity, int(row[0]))
        await self._add_version(conn, activity, state, change, changed)
        return True

    async def _write_facets(self, conn: Connection, activity: Activity, number: int) -> None:
        rows = [(facet, value, number, activity.id) for facet, value in facets_of(activity)]
        if rows:
            await conn.executemany(
                "INSERT INTO activity_facets (facet, value, number, activity_id)"
                " VALUES (?, ?, ?, ?)",
                rows,
            )

    async def _add_version(
        self, conn: Connection, activity: Activity, state: str, change: str, changed: list[str]
    ) -> None:
        await conn.execute(
            "INSERT INTO activity_versions (activity_id, version, actor, changed_at, change,"
            " changed_fields, state) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                activity.id,
                activity.version,
                activity.updated_by,
                utc_text(activity.updated_at),
                change,
                orjson.dumps(changed).decode(),
                state,
            ),
        )

    async def get_in(self, conn: Connection, activity_id: str) -> Activity | None:
        row = await conn.fetchrow("SELECT state FROM activities WHERE id = ?", (activity_id,))
        return Activity.model_validate_json(row[0]) if row else None

    async def get(self, activity_id: str) -> Activity | None:
        async with self._db.read() as conn:
            return await self.get_in(conn, activity_id)

    async def history(self, activity_id: str) -> list[VersionInfo]:
        async with self._db.read() as conn:
            rows = await conn.fetch(
                "SELECT version, actor, changed_at, change, changed_fields FROM activity_versions"
                " WHERE activity_id = ? ORDER BY version",
                (activity_id,),
            )
        return [VersionInfo(int(r[0]), r[1], r[2], r[3], orjson.loads(r[4])) for r in rows]

    async def version(self, activity_id: str, version: int) -> Activity | None:
        async with self._db.read() as conn:
            row = await conn.fetchrow(
                "SELECT state FROM activity_versions WHERE activity_id = ? AND version = ?",
                (activity_id, version),
            )
        return Activity.model_validate_json(row[0]) if row else None

    async def page(self, query: ActivityQuery) -> tuple[list[tuple[int, str]], bool]:
        """`list`, with each activity as its stored JSON state (what `Activity` dumps)."""
        sql, params = page_sql(query, self._db.dialect)
        async with self._db.read() as conn:
            rows = await conn.fetch(sql, params)
        page = sorted((int(r[0]), r[1]) for r in rows)
        return page[: query.limit], len(page) > query.limit

    async def list(self, query: ActivityQuery) -> tuple[list[tuple[int, Activity]], bool]:
        """A page in creation order after `query.after_number`, and whether more follow."""
        rows, more = await self.page(query)
        return [(number, Activity.model_validate_json(state)) for number, state in rows], more


def _in(column: str, values: Iterable[Any]) -> tuple[str, list[Any]]:
    items = list(values)
    return f"{column} IN ({', '.join('?' for _ in items)})", items


# The facet a page is walked by, when the query filters on several: the one likely to
# match fewest activities (a partner or a DA recommendation narrows more than a country).
DRIVING_ORDER = ("partner", "da", "community", "sdg", "country")


def _facet_filters(query: ActivityQuery) -> dict[str, list[str]]:
    """facet -> values, for the facet filters the query has."""
    found = {
        "country": list(query.countries),
        "community": list(query.communities),
        "sdg": [str(v) for v in query.sdgs],
        "da": [str(v) for v in query.da_recommendations],
        "partner": [p.casefold() for p in query.partners],
    }
    return {facet: values for facet, values in found.items() if values}


def _stored_facets(facet: str) -> list[str]:
    # An SDG filter matches curated goals and the tagger's assigned goals alike.
    return ["sdg", "sdg_computed"] if facet == "sdg" else [facet]


def _probe(facet: str, values: list[str], fence: str) -> tuple[str, list[Any]]:
    """One point look-up in the facets' primary key (facet, value, number) per row."""
    facet_clause, facet_params = _in("f.facet", _stored_facets(facet))
    value_clause, value_params = _in("f.value", values)
    return (
        f"EXISTS (SELECT 1 FROM activity_facets f WHERE {facet_clause} AND {value_clause}"
        f" AND f.number = a.number{fence})",
        [*facet_params, *value_params],
    )


def page_sql(query: ActivityQuery, dialect: Dialect) -> tuple[str, list[Any]]:
    """The SQL of one page: activities in `number` order after the cursor, up to the limit
    and one more (to tell whether more follow).

    Without a facet filter the page walks the activities in number order (by the index of
    a category, stage or status filter if there is one) and stops at the limit. With one,
    it walks the facet index instead, which holds each facet value's activities in number
    order: `da=45` reads the fifty-one activities it returns, not the whole table. A filter
    with several values (or `sdg`, which is curated and computed goals) walks each value
    up to the limit and merges the walks; the other filters are checked on the way, one
    row at a time. (On PostgreSQL `OFFSET 0` keeps each check a per-row look-up: the
    planner would otherwise join the whole of the checked sets, which with a limit of 51
    is the slow way.)
    """
    fence = " OFFSET 0" if dialect == "postgres" else ""
    facets = _facet_filters(query)
    where, params = _where(query)
    limit = query.limit + 1
    if not facets:
        return (
            "SELECT a.number, a.state FROM activities a"
            f" WHERE a.number > ? AND {' AND '.join(where)} ORDER BY a.number LIMIT ?",
            [query.after_number, *params, limit],
        )
    driver = next(f for f in DRIVING_ORDER if f in facets)
    probes = [_probe(f, v, fence) for f, v in facets.items() if f != driver]
    checks = [*(c for c, _ in probes), *where]
    check_params = [p for _, ps in probes for p in ps] + params
    walk = (
        "SELECT d.number AS number FROM activity_facets d"
        " WHERE d.facet = ? AND d.value = ? AND d.number > ? AND EXISTS (SELECT 1"
        f" FROM activities a WHERE a.number = d.number AND {' AND '.join(checks)}{fence})"
        " ORDER BY d.number LIMIT ?"
    )
    walks = [(facet, value) for facet in _stored_facets(driver) for value in facets[driver]]
    union = " UNION ".join(f"SELECT number FROM ({walk}) AS w{i}" for i in range(len(walks)))
    union_params = [
        p
        for facet, value in walks
        for p in (facet, value, query.after_number, *check_params, limit)
    ]
    # The numbers are ordered and cut here, the wide rows fetched for them are sorted by
    # the caller: a database sorting the rows would sort (and on PostgreSQL de-TOAST)
    # every state it carries.
    return (
        "SELECT a.number, a.state FROM activities a WHERE a.number IN"
        f" (SELECT u.number FROM ({union}) AS u ORDER BY u.number LIMIT ?)",
        [*union_params, limit],
    )


def _where(query: ActivityQuery) -> tuple[list[str], list[Any]]:
    """The filters on the activity row itself, as clauses on `a` (always at least one)."""
    where = ["1 = 1"]
    params: list[Any] = []

    def add(clause: tuple[str, list[Any]]) -> None:
        where.append(clause[0])
        params.extend(clause[1])

    for column, values in (
        ("a.category", query.categories),
        ("a.stage", query.stages),
        ("a.status", query.statuses),
    ):
        if values:
            add(_in(column, values))
    for column, op, value in (
        ("a.starts_on", ">=", query.starts_from),
        ("a.starts_on", "<=", query.starts_to),
        ("a.ends_on", ">=", query.ends_from),
        ("a.ends_on", "<=", query.ends_to),
    ):
        if value is not None:
            add((f"{column} {op} ?", [value.isoformat()]))
    if query.updated_since is not None:
        add(("a.updated_at > ?", [utc_text(query.updated_since)]))
    if query.text:
        escaped = (
            query.text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        )
        add(("a.search_text LIKE ? ESCAPE '\\'", [f"%{escaped}%"]))
    if not query.include_withdrawn:
        add(("a.lifecycle = ?", ["active"]))
    return where, params
