"""`make bench-registry`: creates through the registry's HTTP API against a bare aiohttp
handler, and list-query latency over 100,000 activities.

Creates. The real registry process (`python -m services.registry`: API-key auth,
validation against the code lists, the activity, its history row, its facets and its
outbox row in one SQLite transaction with `synchronous=FULL`, and the relay publishing to
real Kafka) against a bare aiohttp process, started in the same run, whose handler parses
the JSON body and writes it as one row to SQLite in the same mode. Both are driven over
loopback HTTP with a bounded number of requests in flight; rounds alternate between the
two; each figure is the median of the rounds. After each registry round the bench waits
until the relay has published every create, and reports how long that took.

Queries. 100,000 activities are seeded fast: 2,000 distinct generated activities go
through the repository (`ActivityCommands.create_in`, 1,000 per transaction), then SQL
clones them, with new ids and numbers, up to the total (activities, facets, versions).
The registry process serves them; one request in flight; p50/p99 per filter, and per page
while following cursors from the start and from deep in the table.

    python -m tools.bench_registry [--rounds 3] [--creates 1500] [--in-flight 32]
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
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import aiosqlite
import orjson
from aiohttp import web
from aiokafka.admin import AIOKafkaAdminClient

from services.registry.commands import ActivityCommands
from services.registry.db.activities import ActivityTable
from services.registry.db.api_keys import ApiKeyTable
from services.registry.db.idempotency import IdempotencyTable
from services.registry.db.migrations import migrate
from services.registry.db.outbox import OutboxTable
from services.registry.db.sqlite import SqliteDatabase
from services.registry.query import encode_cursor
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
        "status": "implementation",
        "beneficiaries": [{"country": c} for c in countries],
        "lead_unit": {"kind": "regional_bureau", "name": "Regional Bureau for Africa"},
        "partners": [
            {
                "name": rng.choice(["WHO", "WTO", "UNCTAD"]),
                "kind": "un_entity",
                "role": "cooperating",
            }
        ],
        "dates": {
            "planned_start": f"202{rng.randint(3, 7)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
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


# --- the two servers -----------------------------------------------------------------------

BARE_DB = web.AppKey("bare_db", aiosqlite.Connection)


def bare_app(db_path: Path) -> web.Application:
    """The baseline: parse the JSON body, write it as one row, answer 201."""
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

    async def stop(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self._process.wait(), 60)


async def provision(db_path: Path) -> None:
    db = await SqliteDatabase.open(db_path)
    try:
        await migrate(db)
        await ApiKeyTable(db).create("bench", frozenset({"write"}), key=API_KEY)
    finally:
        await db.close()


def registry_server(db_path: Path, bootstrap: str, namespace: str) -> Server:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "OTEL_EXPORTER_OTLP_ENDPOINT")
    }
    env.update(
        {
            "REGISTRY_PORT": str(port),
            "REGISTRY_SQLITE_PATH": str(db_path),
            "REGISTRY_CONSUMER_GROUP": f"registry-{namespace}",
            "TABRIDGE_TOPIC_NAMESPACE": namespace,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "LOG_LEVEL": "WARNING",
        }
    )
    return Server(
        [sys.executable, "-m", "services.registry"], env, port, db_path.with_suffix(".log")
    )


def bare_server(db_path: Path) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "tools.bench_registry", "--bare-server", str(port), str(db_path)]
    return Server(argv, dict(os.environ), port, db_path.with_suffix(".log"))


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


def outbox_backlog(db_path: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        return int(
            conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()[0]
        )


async def drained_after(db_path: Path, within: float = 60) -> float:
    """Seconds until the relay has published every outbox row."""
    started = time.perf_counter()
    while outbox_backlog(db_path):
        if time.perf_counter() - started > within:
            raise RuntimeError(f"the relay left {outbox_backlog(db_path)} rows after {within} s")
        await asyncio.sleep(0.02)
    return time.perf_counter() - started


async def bench_creates(
    http: aiohttp.ClientSession, tmp: Path, bootstrap: str, namespace: str, args: argparse.Namespace
) -> tuple[Stats, Stats, float]:
    rng = random.Random(20261201)  # noqa: S311 - reproducible test data, not secrets
    registry_db, bare_db = tmp / "registry.db", tmp / "bare.db"
    await provision(registry_db)
    registry, bare = registry_server(registry_db, bootstrap, namespace), bare_server(bare_db)
    await registry.start(http)
    await bare.start(http)
    ours: list[Stats] = []
    base: list[Stats] = []
    lags: list[float] = []
    try:
        warm = [orjson.dumps(generated(n, rng)) for n in range(200)]
        for server in (registry, bare):
            await create_round(http, server.base, warm, args.in_flight)
        await drained_after(registry_db)
        for r in range(args.rounds):
            bodies = [orjson.dumps(generated(n, rng)) for n in range(args.creates)]
            ours.append(await create_round(http, registry.base, bodies, args.in_flight))
            lags.append(await drained_after(registry_db))
            base.append(await create_round(http, bare.base, bodies, args.in_flight))
            print(
                f"  round {r + 1}: registry {ours[-1].rate:.0f}/s, bare {base[-1].rate:.0f}/s",
                flush=True,
            )
    finally:
        await registry.stop()
        await bare.stop()
    return Stats.median(ours), Stats.median(base), statistics.median(lags)


# --- queries -------------------------------------------------------------------------------

# Each statement pairs every seeded activity with each copy's offset (bound parameters:
# step, step, step, total, step) and writes the copy under its new number and id.
CLONES = [
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
    " ids AS (SELECT a.id AS old_id,"
    "  printf('TA-%s-%06d', substr(a.id, 4, 4), a.number + c.off) AS new_id"
    "  FROM activities a, c WHERE a.number <= ?)"
    " INSERT INTO activity_facets (facet, value, activity_id)"
    " SELECT f.facet, f.value, ids.new_id FROM activity_facets f"
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


async def seed(db_path: Path, total: int) -> float:
    """`total` activities: SEED_DISTINCT through the repository, the rest cloned in SQL."""
    started = time.perf_counter()
    distinct = min(SEED_DISTINCT, total)
    db = await SqliteDatabase.open(db_path, synchronous="NORMAL")
    try:
        await migrate(db)
        await ApiKeyTable(db).create("bench", frozenset({"read"}), key=API_KEY)
        commands = ActivityCommands(
            db=db,
            activities=ActivityTable(db),
            outbox=OutboxTable(db),
            idempotency=IdempotencyTable(),
            codelists=load_codelists(),
            clock=lambda: datetime.now(UTC),
            iati_org_ref="XI-IATI-WIPO",
            on_commit=lambda: None,
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
                for sql in CLONES:
                    await conn.execute(sql, (distinct, distinct, distinct, total, distinct))
            await conn.execute("UPDATE counters SET value = ? WHERE name = 'activity'", (total,))
            # The seed stands for history already on the topics: nothing for the relay to do.
            await conn.execute("UPDATE outbox SET published_at = created_at")
        async with db.read() as conn:
            row = await conn.fetchrow("SELECT count(*) FROM activities")
        assert row is not None
        assert int(row[0]) == total, row
    finally:
        await db.close()
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        conn.execute("ANALYZE")
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
            cursor = body.get("next_cursor") or (body.get("page") or {}).get("next_cursor")
            if not cursor:
                break
            url = f"{base}/v1/activities?{query}&cursor={cursor}"
        results[name] = Stats.of(latencies, sum(latencies))

    await walk(f"{pages} pages by cursor from the start", "country=KE&limit=50")
    await walk(
        f"{pages} pages by cursor past n={deep:,}",
        f"country=KE&limit=50&cursor={encode_cursor(deep)}",
    )
    return results


async def bench_queries(
    http: aiohttp.ClientSession, tmp: Path, bootstrap: str, namespace: str, args: argparse.Namespace
) -> tuple[dict[str, Stats], float]:
    db_path = tmp / "registry-100k.db"
    seconds = await seed(db_path, args.activities)
    registry = registry_server(db_path, bootstrap, namespace)
    await registry.start(http)
    deep = args.activities * 9 // 10
    rounds: list[dict[str, Stats]] = []
    try:
        await query_round(http, registry.base, 3, 3, deep)  # warm the page cache
        for _ in range(args.rounds):
            rounds.append(await query_round(http, registry.base, args.samples, args.pages, deep))
    finally:
        await registry.stop()
    return {name: Stats.median([r[name] for r in rounds]) for name in rounds[0]}, seconds


async def drop_topics(bootstrap: str, namespace: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    with contextlib.suppress(Exception):
        await admin.start()
        names = [t for t in await admin.list_topics() if t.startswith(f"{namespace}.")]
        if names:
            await admin.delete_topics(names)
    await admin.close()


async def main(args: argparse.Namespace) -> None:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    print(
        f"bench-registry: SQLite store (synchronous=FULL), Kafka {bootstrap},"
        f" median of {args.rounds} rounds"
    )
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        with tempfile.TemporaryDirectory(prefix="bench-registry-") as tmp:
            try:
                ours, base, lag = await bench_creates(http, Path(tmp), bootstrap, namespace, args)
                queries, seeded = await bench_queries(http, Path(tmp), bootstrap, namespace, args)
            finally:
                await drop_topics(bootstrap, namespace)
    print(f"creates over HTTP, {args.creates} per round, {args.in_flight} in flight")
    print(f"  {'':38}{'creates/s':>10}{'p50 ms':>9}{'p99 ms':>9}")
    for name, s in (
        ("registry API (outbox + relay to Kafka)", ours),
        ("bare aiohttp handler, one row", base),
    ):
        print(f"  {name:38}{s.rate:10.0f}{s.p50_ms:9.1f}{s.p99_ms:9.1f}")
    print(f"  ratio: {ours.rate / base.rate:.2f} of the bare handler's rate")
    print(f"  every create was on Kafka {lag:.2f} s after the round's last response (median)")
    print(
        f"list queries over {args.activities:,} activities (seeded in {seeded:.0f} s),"
        f" one in flight, {args.samples} samples per filter per round, limit 50"
    )
    print(f"  {'':38}{'p50 ms':>9}{'p99 ms':>9}")
    for name, s in queries.items():
        print(f"  {name:38}{s.p50_ms:9.1f}{s.p99_ms:9.1f}")
    print(f"total {time.perf_counter() - started:.0f} s")


def serve_bare(port: int, db_path: Path) -> None:
    web.run_app(bare_app(db_path), host="127.0.0.1", port=port, print=None, access_log=None)


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "3")))
    parser.add_argument("--creates", type=int, default=800, help="creates per round and server")
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--activities", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=15, help="requests per filter per round")
    parser.add_argument("--pages", type=int, default=10, help="pages per cursor walk")
    parser.add_argument("--bare-server", nargs=2, metavar=("PORT", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_server:
        serve_bare(int(args.bare_server[0]), Path(args.bare_server[1]))
        return
    asyncio.run(main(args))


if __name__ == "__main__":
    cli()
