"""`make bench-registry`: creates through the registry's HTTP API against a bare handler,
and list-query latency at 100,000 and 1,000,000 activities, on SQLite and on PostgreSQL.

Creates. The real registry process (`python -m services.registry`: API-key auth,
validation against the code lists, the activity, its history row, its facets and its
outbox row in one transaction — shared with the creates that arrive while it is open, by
group commit — and the relay publishing to real Kafka) against a bare process started in
the same run: on SQLite an aiohttp handler that parses the JSON body and writes it as one
row to SQLite with `synchronous=FULL` (one fsync per request); on PostgreSQL the same
handler inserting the row with asyncpg (one commit per request). Both are driven over
loopback HTTP with a bounded number of requests in flight; rounds alternate between the
two; each figure is the median of the rounds. After each registry round the bench waits
until the relay has published every create, and reports how long that took.

Queries. The activities are seeded fast: 2,000 distinct generated activities go through
the repository (`ActivityCommands.create_in`, 1,000 per transaction), then SQL clones
them, with new ids and numbers, up to the total (activities, facets, versions). The
registry process serves them; one request in flight; p50/p99 per filter, and per page
while following cursors from the start and from deep in the table.

PostgreSQL: `BENCH_DATABASE_URL` (else `TEST_DATABASE_URL`, else the local server of
`deploy/postgres/pg.sh`, started if need be); each part runs in a schema of its own,
dropped after it. `--stores sqlite` skips it.

    python -m tools.bench_registry [--rounds 3] [--creates 800] [--in-flight 32]
        [--scales 100000,1000000] [--stores sqlite,postgres] [--parts creates,queries]

Ends with `RATIO bench-registry <registry creates/s ÷ bare creates/s on SQLite>`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
import aiosqlite
import asyncpg
import orjson
from aiohttp import web
from aiokafka.admin import AIOKafkaAdminClient

from services.registry.commands import ActivityCommands
from services.registry.db.activities import ActivityTable
from services.registry.db.api_keys import ApiKeyTable
from services.registry.db.idempotency import IdempotencyTable
from services.registry.db.outbox import OutboxTable
from services.registry.db.store import REGISTRY_STORE
from services.registry.query import encode_cursor
from shared.db import Connection, Database, PostgresDatabase, SqliteDatabase, migrate
from shared.domain import ActivityFields, load_codelists

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "tbk_bench-registry"
COUNTRIES = ["KE", "UG", "TZ", "GH", "SN", "BD", "KH", "PE", "CO", "UZ"]
CATEGORIES = [
    "national_ip_strategy",
    "infrastructure",
    "capacity_building",
    "legislative_assistance",
    "da_project",
    "public_private_partnership",
]
FILTERS = [
    ("first page, no filter", "limit=50"),
    ("country=KE", "country=KE"),
    ("category + country", "category=capacity_building&country=SN"),
    ("sdg=9", "sdg=9"),
    ("partner + stage", "partner=WHO&stage=implementation"),
    ("start-date range", "starts_from=2025-01-01&starts_to=2025-06-30"),
    ("text q=tisc", "q=tisc"),
    ("community=EAC", "community=EAC"),
    ("da=45", "da=45"),
    ("status=closed", "status=closed"),
    ("end-date range", "ends_from=2028-01-01&ends_to=2028-03-31"),
    ("updated_since", "updated_since=2020-01-01T00:00:00Z"),
    ("include_withdrawn=false", "include_withdrawn=false"),
    ("country + sdg + stage", "country=KE,UG&sdg=3&stage=planning_and_design"),
]
SEED_DISTINCT = 2_000


def generated(n: int, rng: random.Random) -> dict[str, Any]:
    """A valid activity document; the mix of values gives the filters varied selectivity."""
    countries = rng.sample(COUNTRIES, rng.randint(1, 3))
    return {
        "title": {
            "en": f"Activity {n}: {'TISC network' if n % 7 == 0 else 'IP office automation'}"
        },
        "description": {"en": "Capacity building for IP offices and innovation support centres."},
        "category": CATEGORIES[n % len(CATEGORIES)],
        "stage": rng.choice(["needs_assessment", "planning_and_design", "implementation"]),
        "status": rng.choice(["pipeline", "implementation", "implementation", "closed"]),
        "beneficiaries": [{"country": c} for c in countries],
        "regional_communities": ["EAC"] if {"KE", "UG", "TZ"} & set(countries) else [],
        "lead_unit": {"kind": "regional_bureau", "name": "Regional Bureau for Africa"},
        "partners": [
            {
                "name": rng.choice(["WHO", "WTO", "UNCTAD"]),
                "kind": "un_entity",
                "role": "cooperating",
            }
        ],
        "dates": {
            "planned_start": f"202{rng.randint(3, 7)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            "planned_end": f"202{rng.randint(8, 9)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        },
        "da_recommendations": [1 + n % 45],
        "sdg": {"goals": [1 + n % 17], "targets": []},
    }


def free_port() -> int:
    """A port nobody listens on, below the kernel's ephemeral range (32768+ on Linux), so no
    outgoing connection can take it before the server binds."""
    rng = random.Random()  # noqa: S311 - not a secret
    while True:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", rng.randrange(20_000, 32_000)))
            except OSError:
                continue
            port: int = sock.getsockname()[1]
            return port


def percentile(values: list[float], q: int) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


@dataclass(frozen=True, slots=True)
class Stats:
    rate: float
    p50_ms: float
    p99_ms: float

    @classmethod
    def of(cls, latencies: list[float], elapsed: float) -> Stats:
        return cls(
            len(latencies) / elapsed,
            percentile(latencies, 50) * 1e3,
            percentile(latencies, 99) * 1e3,
        )

    @classmethod
    def median(cls, rounds: list[Stats]) -> Stats:
        return cls(
            *(
                statistics.median(getattr(r, f) for r in rounds)
                for f in ("rate", "p50_ms", "p99_ms")
            )
        )


# --- the stores ----------------------------------------------------------------------------


class SqliteStore:
    """A registry database in a SQLite file."""

    kind = "sqlite"
    label = "SQLite (synchronous=FULL)"

    def __init__(self, tmp: Path, name: str) -> None:
        self.path = tmp / f"{name}.db"
        self.log = tmp / f"{name}.log"

    async def create(self) -> None:
        pass

    async def open(self, *, seeding: bool = False) -> Database:
        return await SqliteDatabase.open(self.path, synchronous="NORMAL" if seeding else "FULL")

    def env(self) -> dict[str, str]:
        return {"REGISTRY_SQLITE_PATH": str(self.path)}

    async def backlog(self) -> int:
        with contextlib.closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as conn:
            return int(
                conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()[0]
            )

    async def clone(self, conn: Connection, distinct: int, total: int) -> None:
        for sql in SQLITE_CLONES:
            await conn.execute(sql, (distinct, distinct, distinct, total, distinct))

    async def analyse(self) -> None:
        with contextlib.closing(sqlite3.connect(self.path)) as conn:
            conn.execute("ANALYZE")

    def bare_target(self) -> str:
        return str(self.path)

    async def drop(self) -> None:
        def unlink() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)

        await asyncio.to_thread(unlink)


class PostgresStore:
    """A registry database in a PostgreSQL schema of its own."""

    kind = "postgres"
    label = "PostgreSQL"

    def __init__(self, server_url: str, tmp: Path, name: str) -> None:
        self.server_url = server_url
        self.schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
        self.url = with_search_path(server_url, self.schema)
        self.log = tmp / f"{name}.log"
        self._conn: Any = None

    async def create(self) -> None:
        conn = await asyncpg.connect(self.server_url)
        try:
            await conn.execute(f'CREATE SCHEMA "{self.schema}"')
        finally:
            await conn.close()

    async def open(self, *, seeding: bool = False) -> Database:
        return await PostgresDatabase.open(
            self.url, write_lock=REGISTRY_STORE.write_lock, min_size=1, max_size=4
        )

    def env(self) -> dict[str, str]:
        return {"DATABASE_URL": self.url}

    async def backlog(self) -> int:
        if self._conn is None:
            self._conn = await asyncpg.connect(self.url)
        return int(
            await self._conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        )

    async def clone(self, conn: Connection, distinct: int, total: int) -> None:
        for sql in POSTGRES_CLONES:
            await conn.execute(sql, (distinct, total))

    async def analyse(self) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()

    def bare_target(self) -> str:
        return self.url

    async def drop(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        conn = await asyncpg.connect(self.server_url)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        finally:
            await conn.close()


BenchStore = SqliteStore | PostgresStore


def with_search_path(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "search_path"]
    query.append(("search_path", schema))
    return urlunsplit(parts._replace(query=urlencode(query)))


def postgres_server_url() -> str | None:
    """The PostgreSQL server to bench on, or None (said why) when there is none."""
    for name in ("BENCH_DATABASE_URL", "TEST_DATABASE_URL"):
        if os.environ.get(name):
            return os.environ[name]
    pg = ROOT / "deploy" / "postgres" / "pg.sh"
    started = subprocess.run(
        ["bash", str(pg), "start"], capture_output=True, text=True, check=False
    )
    if started.returncode != 0:
        print(f"PostgreSQL: skipped, `pg.sh start` failed: {started.stderr.strip()[-300:]}")
        return None
    url = subprocess.run(["bash", str(pg), "url"], capture_output=True, text=True, check=False)
    return url.stdout.strip() or None


# --- the servers ---------------------------------------------------------------------------

BARE_DB = web.AppKey("bare_db", aiosqlite.Connection)
BARE_POOL = web.AppKey("bare_pool", asyncpg.Pool)


def bare_app(db_path: Path) -> web.Application:
    """The SQLite baseline: parse the JSON body, write it as one row, answer 201."""
    app = web.Application()

    async def store(app: web.Application) -> AsyncIterator[None]:
        conn = await aiosqlite.connect(db_path, isolation_level=None)
        for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"):
            await conn.execute(pragma)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS docs (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"
        )
        app[BARE_DB] = conn
        yield
        await conn.close()

    async def create(request: web.Request) -> web.Response:
        body = await request.read()
        orjson.loads(body)
        cursor = await request.app[BARE_DB].execute(
            "INSERT INTO docs (body) VALUES (?)", (body.decode(),)
        )
        return web.json_response({"id": cursor.lastrowid}, status=201)

    return _with_routes(app, store, create)


def bare_pg_app(url: str) -> web.Application:
    """The PostgreSQL baseline: parse the JSON body, insert it as one row with asyncpg."""
    app = web.Application()

    async def store(app: web.Application) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(url, min_size=10, max_size=10)
        await pool.execute("CREATE TABLE IF NOT EXISTS docs (id BIGSERIAL PRIMARY KEY, body TEXT)")
        app[BARE_POOL] = pool
        yield
        await pool.close()

    async def create(request: web.Request) -> web.Response:
        body = await request.read()
        orjson.loads(body)
        row_id = await request.app[BARE_POOL].fetchval(
            "INSERT INTO docs (body) VALUES ($1) RETURNING id", body.decode()
        )
        return web.json_response({"id": row_id}, status=201)

    return _with_routes(app, store, create)


def _with_routes(app: web.Application, store: Any, create: Any) -> web.Application:
    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.cleanup_ctx.append(store)
    app.router.add_post("/v1/activities", create)
    app.router.add_get("/healthz", healthz)
    return app


class Server:
    """A server process on loopback; started, awaited healthy, stopped with SIGTERM."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self._argv, self._env, self.port, self._log = argv, env, port, log
        self.base = f"http://127.0.0.1:{port}"
        self._process: asyncio.subprocess.Process | None = None

    async def start(self, http: aiohttp.ClientSession) -> None:
        with self._log.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                *self._argv, cwd=ROOT, env=self._env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._process.returncode is not None:
                raise RuntimeError(f"{self._argv} exited:\n{self.log_tail()}")
            with contextlib.suppress(aiohttp.ClientConnectionError):
                async with http.get(f"{self.base}/healthz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{self._argv} did not answer /healthz in 60 s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        return self._log.read_text(errors="replace")[-3000:]

    def cpu_seconds(self) -> float:
        """CPU time (user + system, every thread) the process has used so far: what a
        request costs, whatever else the machine is running."""
        assert self._process is not None
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def stop(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self._process.wait(), 60)


async def provision(store: BenchStore, scope: str) -> Database:
    await store.create()
    db = await store.open(seeding=True)
    await migrate(db, REGISTRY_STORE)
    await ApiKeyTable(db).create("bench", frozenset({scope}), key=API_KEY)
    return db


def registry_server(store: BenchStore, bootstrap: str, namespace: str) -> Server:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "OTEL_EXPORTER_OTLP_ENDPOINT")
    }
    env.update(
        {
            "REGISTRY_PORT": str(port),
            "REGISTRY_CONSUMER_GROUP": f"registry-{namespace}",
            "TABRIDGE_TOPIC_NAMESPACE": namespace,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "LOG_LEVEL": "WARNING",
            **store.env(),
        }
    )
    return Server([sys.executable, "-m", "services.registry"], env, port, store.log)


def bare_server(store: BenchStore) -> Server:
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "tools.bench_registry",
        "--bare-server",
        store.kind,
        str(port),
        store.bare_target(),
    ]
    return Server(argv, dict(os.environ), port, store.log.with_suffix(".bare.log"))


# --- creates -------------------------------------------------------------------------------


async def create_round(
    http: aiohttp.ClientSession, base: str, bodies: list[bytes], in_flight: int
) -> Stats:
    gate = asyncio.Semaphore(in_flight)
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    latencies: list[float] = []

    async def one(body: bytes) -> None:
        async with gate:
            started = time.perf_counter()
            async with http.post(f"{base}/v1/activities", data=body, headers=headers) as resp:
                text = await resp.read()
                if resp.status != 201:
                    raise RuntimeError(f"create answered {resp.status}: {text[:300]!r}")
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one(b) for b in bodies))
    return Stats.of(latencies, time.perf_counter() - started)


async def drained_after(store: BenchStore, within: float = 300) -> float:
    """Seconds until the relay has published every outbox row."""
    started = time.perf_counter()
    while await store.backlog():
        if time.perf_counter() - started > within:
            raise RuntimeError(f"the relay left {await store.backlog()} rows after {within} s")
        await asyncio.sleep(0.02)
    return time.perf_counter() - started


@dataclass(frozen=True, slots=True)
class Creates:
    ours: Stats
    bare: Stats
    lag: float
    ours_cpu: float  # CPU seconds of the server process per create (the registry's
    bare_cpu: float  # until the relay has published the round)

    @property
    def ratio(self) -> float:
        return self.ours.rate / self.bare.rate


async def bench_creates(
    http: aiohttp.ClientSession,
    store: BenchStore,
    bare_store: BenchStore,
    bootstrap: str,
    namespace: str,
    args: argparse.Namespace,
) -> Creates:
    rng = random.Random(20261201)  # noqa: S311 - reproducible test data, not secrets
    await (await provision(store, "write")).close()
    await bare_store.create()
    registry, bare = registry_server(store, bootstrap, namespace), bare_server(bare_store)
    ours: list[Stats] = []
    base: list[Stats] = []
    lags: list[float] = []
    ours_cpu: list[float] = []
    base_cpu: list[float] = []
    try:
        await registry.start(http)
        await bare.start(http)
        warm = [orjson.dumps(generated(n, rng)) for n in range(200)]
        for server in (registry, bare):
            await create_round(http, server.base, warm, args.in_flight)
        await drained_after(store)
        for r in range(args.rounds):
            bodies = [orjson.dumps(generated(n, rng)) for n in range(args.creates)]
            cpu = registry.cpu_seconds()
            ours.append(await create_round(http, registry.base, bodies, args.in_flight))
            lags.append(await drained_after(store))
            ours_cpu.append((registry.cpu_seconds() - cpu) / len(bodies))
            cpu = bare.cpu_seconds()
            base.append(await create_round(http, bare.base, bodies, args.in_flight))
            base_cpu.append((bare.cpu_seconds() - cpu) / len(bodies))
            print(
                f"  {store.kind} round {r + 1}: registry {ours[-1].rate:.0f}/s,"
                f" bare {base[-1].rate:.0f}/s",
                flush=True,
            )
    finally:
        await registry.stop()
        await bare.stop()
        await store.drop()
        await bare_store.drop()
    return Creates(
        Stats.median(ours),
        Stats.median(base),
        statistics.median(lags),
        statistics.median(ours_cpu),
        statistics.median(base_cpu),
    )


# --- queries -------------------------------------------------------------------------------

# Each statement pairs every seeded activity with each copy's offset (bound parameters:
# step, step, step, total, step) and writes the copy under its new number and id.
SQLITE_CLONES = [
    "WITH RECURSIVE c(off) AS (SELECT ? UNION ALL SELECT off + ? FROM c WHERE off + ? < ?),"
    " src AS (SELECT a.*, a.number + c.off AS new_number,"
    "  printf('TA-%s-%06d', substr(a.id, 4, 4), a.number + c.off) AS new_id"
    "  FROM activities a, c WHERE a.number <= ?)"
    " INSERT INTO activities (id, number, version, lifecycle, category, stage, status,"
    " search_text, starts_on, ends_on, created_at, updated_at, state)"
    " SELECT new_id, new_number, version, lifecycle, category, stage, status, search_text,"
    " starts_on, ends_on, created_at, updated_at,"
    " json_set(state, '$.id', new_id, '$.iati_identifier', 'XI-IATI-WIPO-' || new_id) FROM src",
    "WITH RECURSIVE c(off) AS (SELECT ? UNION ALL SELECT off + ? FROM c WHERE off + ? < ?),"
    " ids AS (SELECT a.id AS old_id, a.number + c.off AS new_number,"
    "  printf('TA-%s-%06d', substr(a.id, 4, 4), a.number + c.off) AS new_id"
    "  FROM activities a, c WHERE a.number <= ?)"
    " INSERT INTO activity_facets (facet, value, number, activity_id)"
    " SELECT f.facet, f.value, ids.new_number, ids.new_id FROM activity_facets f"
    " JOIN ids ON ids.old_id = f.activity_id",
    "WITH RECURSIVE c(off) AS (SELECT ? UNION ALL SELECT off + ? FROM c WHERE off + ? < ?),"
    " ids AS (SELECT a.id AS old_id,"
    "  printf('TA-%s-%06d', substr(a.id, 4, 4), a.number + c.off) AS new_id"
    "  FROM activities a, c WHERE a.number <= ?)"
    " INSERT INTO activity_versions (activity_id, version, actor, changed_at, change,"
    " changed_fields, state) SELECT ids.new_id, v.version, v.actor, v.changed_at, v.change,"
    " v.changed_fields, json_set(v.state, '$.id', ids.new_id) FROM activity_versions v"
    " JOIN ids ON ids.old_id = v.activity_id",
]
# The same on PostgreSQL (bound parameters: step, total).
_PG_IDS = (
    "WITH ids AS (SELECT a.id AS old_id, a.number + c.off AS new_number,"
    " 'TA-' || substr(a.id, 4, 4) || '-' || lpad((a.number + c.off)::text,"
    " greatest(6, length((a.number + c.off)::text)), '0') AS new_id"
    " FROM activities a, generate_series(?::bigint, ?::bigint, ?::bigint) AS c(off)"
    " WHERE a.number <= ?::bigint)"
)
POSTGRES_CLONES = [
    _PG_IDS  # noqa: S608 - constant SQL
    + " INSERT INTO activities (id, number, version, lifecycle, category, stage, status,"
    " search_text, starts_on, ends_on, created_at, updated_at, state)"
    " SELECT ids.new_id, ids.new_number, a.version, a.lifecycle, a.category, a.stage, a.status,"
    " a.search_text, a.starts_on, a.ends_on, a.created_at, a.updated_at,"
    " jsonb_set(jsonb_set(a.state::jsonb, '{id}', to_jsonb(ids.new_id)), '{iati_identifier}',"
    " to_jsonb('XI-IATI-WIPO-' || ids.new_id))::text"
    " FROM ids JOIN activities a ON a.id = ids.old_id",
    _PG_IDS  # noqa: S608 - constant SQL
    + " INSERT INTO activity_facets (facet, value, number, activity_id)"
    " SELECT f.facet, f.value, ids.new_number, ids.new_id FROM activity_facets f"
    " JOIN ids ON ids.old_id = f.activity_id",
    _PG_IDS  # noqa: S608 - constant SQL
    + " INSERT INTO activity_versions (activity_id, version, actor, changed_at, change,"
    " changed_fields, state) SELECT ids.new_id, v.version, v.actor, v.changed_at, v.change,"
    " v.changed_fields, jsonb_set(v.state::jsonb, '{id}', to_jsonb(ids.new_id))::text"
    " FROM activity_versions v JOIN ids ON ids.old_id = v.activity_id",
]


async def seed(store: BenchStore, total: int) -> float:
    """`total` activities: SEED_DISTINCT through the repository, the rest cloned in SQL."""
    started = time.perf_counter()
    distinct = min(SEED_DISTINCT, total)
    db = await provision(store, "read")
    try:
        commands = ActivityCommands(
            db=db,
            activities=ActivityTable(db),
            outbox=OutboxTable(db),
            idempotency=IdempotencyTable(),
            codelists=load_codelists(),
            clock=lambda: datetime.now(UTC),
            iati_org_ref="XI-IATI-WIPO",
            on_commit=lambda *_: None,
        )
        rng = random.Random(20261125)  # noqa: S311 - reproducible test data, not secrets
        docs = [
            commands.checked(ActivityFields.model_validate(generated(n, rng)))
            for n in range(distinct)
        ]
        for start in range(0, distinct, 1000):
            async with db.transaction() as conn:
                for fields in docs[start : start + 1000]:
                    await commands.create_in(conn, fields, actor="bench-seed")
        async with db.transaction() as conn:
            if total > distinct:
                if isinstance(store, SqliteStore):
                    for sql in SQLITE_CLONES:
                        await conn.execute(sql, (distinct, distinct, distinct, total, distinct))
                else:
                    for sql in POSTGRES_CLONES:
                        await conn.execute(sql, (distinct, total - distinct, distinct, distinct))
            await conn.execute("UPDATE counters SET value = ? WHERE name = 'activity'", (total,))
            # The seed stands for history already on the topics: nothing for the relay to do.
            await conn.execute("UPDATE outbox SET published_at = created_at")
            # A few withdrawn activities, for include_withdrawn=false to skip.
            await conn.execute(
                "UPDATE activities SET lifecycle = 'withdrawn' WHERE number % 1000 = 7"
            )
        async with db.read() as conn:
            row = await conn.fetchrow("SELECT count(*) FROM activities")
        assert row is not None
        assert int(row[0]) == total, row
    finally:
        await db.close()
    await store.analyse()
    return time.perf_counter() - started


async def timed_get(http: aiohttp.ClientSession, url: str) -> tuple[float, Any]:
    started = time.perf_counter()
    async with http.get(url, headers={"Authorization": f"Bearer {API_KEY}"}) as resp:
        body = await resp.json()
        if resp.status != 200:
            raise RuntimeError(f"GET {url} answered {resp.status}: {body}")
    return time.perf_counter() - started, body


async def query_round(
    http: aiohttp.ClientSession, base: str, samples: int, pages: int, deep: int
) -> dict[str, Stats]:
    results: dict[str, Stats] = {}
    for name, query in FILTERS:
        latencies = [
            (await timed_get(http, f"{base}/v1/activities?{query}"))[0] for _ in range(samples)
        ]
        results[name] = Stats.of(latencies, sum(latencies))

    async def walk(name: str, query: str) -> None:
        latencies: list[float] = []
        url = f"{base}/v1/activities?{query}"
        for _ in range(pages):
            elapsed, body = await timed_get(http, url)
            latencies.append(elapsed)
            cursor = body.get("next_cursor")
            if not cursor:
                break
            url = f"{base}/v1/activities?{query}&cursor={cursor}"
        results[name] = Stats.of(latencies, sum(latencies))

    await walk(f"{pages} pages by cursor from the start", "country=KE&limit=50")
    await walk(
        f"{pages} pages by cursor past 90%", f"country=KE&limit=50&cursor={encode_cursor(deep)}"
    )
    return results


@dataclass(frozen=True, slots=True)
class Queries:
    store: str
    activities: int
    seeded_s: float
    stats: dict[str, Stats]


async def bench_queries(
    http: aiohttp.ClientSession,
    store: BenchStore,
    total: int,
    bootstrap: str,
    namespace: str,
    args: argparse.Namespace,
) -> Queries:
    try:
        seconds = await seed(store, total)
        registry = registry_server(store, bootstrap, namespace)
        deep = total * 9 // 10
        rounds: list[dict[str, Stats]] = []
        try:
            await registry.start(http)
            await query_round(http, registry.base, 3, 3, deep)  # warm the page cache
            for _ in range(args.rounds):
                rounds.append(
                    await query_round(http, registry.base, args.samples, args.pages, deep)
                )
        finally:
            await registry.stop()
    finally:
        await store.drop()
    stats = {name: Stats.median([r[name] for r in rounds]) for name in rounds[0]}
    print(f"  {store.kind} at {total:,}: worst p99 {max(s.p99_ms for s in stats.values()):.1f} ms")
    return Queries(store.kind, total, seconds, stats)


async def drop_topics(bootstrap: str, namespace: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    with contextlib.suppress(Exception):
        await admin.start()
        names = [t for t in await admin.list_topics() if t.startswith(f"{namespace}.")]
        if names:
            await admin.delete_topics(names)
    await admin.close()


def report(creates: dict[str, Creates], queries: list[Queries], args: argparse.Namespace) -> None:
    if creates:
        print(f"creates over HTTP, {args.creates} per round, {args.in_flight} in flight")
        print(f"  {'':44}{'creates/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for kind, c in creates.items():
        for name, s in (
            (f"{kind}: registry API (outbox + relay to Kafka)", c.ours),
            (f"{kind}: bare handler, one row", c.bare),
        ):
            print(f"  {name:44}{s.rate:10.0f}{s.p50_ms:9.1f}{s.p99_ms:9.1f}")
        print(f"  {kind}: ratio {c.ratio:.2f} of the bare handler's rate")
        print(f"  {kind}: every create was on Kafka {c.lag:.2f} s after the round's last response")
        print(
            f"  {kind}: CPU per create, server process: registry {c.ours_cpu * 1e3:.2f} ms"
            f" (relay included), bare {c.bare_cpu * 1e3:.2f} ms"
            f" -> {c.bare_cpu / c.ours_cpu:.2f} of the registry's CPU cost"
        )
    for q in queries:
        print(
            f"list queries, {q.store}, {q.activities:,} activities (seeded in {q.seeded_s:.0f} s),"
            f" one in flight, {args.samples} samples per filter per round, limit 50"
        )
        print(f"  {'':44}{'p50 ms':>9}{'p99 ms':>9}")
        for name, s in q.stats.items():
            print(f"  {name:44}{s.p50_ms:9.1f}{s.p99_ms:9.1f}")


async def main(args: argparse.Namespace) -> None:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    kinds = [k.strip() for k in args.stores.split(",") if k.strip()]
    scales = [int(n) for n in args.scales.split(",") if n.strip()]
    pg_url = postgres_server_url() if "postgres" in kinds else None
    if pg_url is None:
        kinds = [k for k in kinds if k != "postgres"]
    print(
        f"bench-registry: stores {', '.join(kinds)}, Kafka {bootstrap},"
        f" median of {args.rounds} rounds",
        flush=True,
    )
    creates: dict[str, Creates] = {}
    queries: list[Queries] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as http:
        with tempfile.TemporaryDirectory(prefix="bench-registry-") as tmp_name:
            tmp = Path(tmp_name)

            def store(kind: str, name: str) -> BenchStore:
                if kind == "sqlite":
                    return SqliteStore(tmp, name)
                assert pg_url is not None
                return PostgresStore(pg_url, tmp, name)

            try:
                for kind in kinds if "creates" in args.parts else []:
                    creates[kind] = await bench_creates(
                        http,
                        store(kind, "creates"),
                        store(kind, "bare"),
                        bootstrap,
                        namespace,
                        args,
                    )
                for total in scales if "queries" in args.parts else []:
                    for kind in kinds:
                        queries.append(
                            await bench_queries(
                                http, store(kind, f"q{total}"), total, bootstrap, namespace, args
                            )
                        )
            finally:
                await drop_topics(bootstrap, namespace)
    report(creates, queries, args)
    print(f"total {time.perf_counter() - started:.0f} s")
    if "sqlite" in creates:
        print(f"RATIO bench-registry {creates['sqlite'].ratio:.2f}")


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "3")))
    parser.add_argument("--creates", type=int, default=800, help="creates per round and server")
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument(
        "--scales",
        default=os.environ.get("BENCH_REGISTRY_SCALES", "100000,1000000"),
        help="activity counts to query at, comma-separated",
    )
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--parts", default="creates,queries", help="creates, queries or both")
    parser.add_argument("--samples", type=int, default=15, help="requests per filter per round")
    parser.add_argument("--pages", type=int, default=10, help="pages per cursor walk")
    parser.add_argument(
        "--bare-server", nargs=3, metavar=("KIND", "PORT", "DB"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.bare_server:
        kind, port, target = args.bare_server
        app = bare_app(Path(target)) if kind == "sqlite" else bare_pg_app(target)
        web.run_app(app, host="127.0.0.1", port=int(port), print=None, access_log=None)
        return
    asyncio.run(main(args))


if __name__ == "__main__":
    cli()
