"""A real consumer process for the kill / SIGTERM tests, built like a service.

    python -m tests.integration.core.worker BOOTSTRAP TOPIC GROUP DB COMMIT_EVERY

Each effect is a row in `effects`, written in one SQLite transaction with the event's id
in `processed_events`, the table the runner's de-duplication reads. At exit it prints one
JSON line with its counters.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
from aiohttp import web
from prometheus_client import CollectorRegistry

from shared import (
    CommitPolicy,
    ConsumerRunner,
    Event,
    EventCatalog,
    EventPublisher,
    KafkaTransport,
    MessageContext,
    PipelineMetrics,
    Router,
    SqliteDedup,
    configure_logging,
    consumer_context,
    create_base_app,
    publisher_context,
    serve,
)
from tests.support.harness import Thing

PUBLISHER = web.AppKey("publisher", EventPublisher)
RUNNER = web.AppKey("runner", ConsumerRunner)
DB = web.AppKey("db", aiosqlite.Connection)
DEDUP = web.AppKey("dedup", SqliteDedup)


def build_app(
    bootstrap: str, topic: str, group: str, db_path: Path, commit_every: int
) -> web.Application:
    logger = configure_logging("core-worker", "INFO")
    registry = CollectorRegistry()
    metrics = PipelineMetrics(registry)
    app = create_base_app(service="core-worker", logger=logger, registry=registry)
    transport = KafkaTransport(bootstrap)
    catalog = EventCatalog()
    catalog.register(Thing)

    async def store(app: web.Application) -> AsyncIterator[None]:
        db = await aiosqlite.connect(db_path)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=FULL")
        await db.execute(
            "CREATE TABLE IF NOT EXISTS effects (seq INTEGER PRIMARY KEY, event_id TEXT, thing TEXT, n INTEGER)"
        )
        await db.commit()
        dedup = SqliteDedup(db_path)
        await dedup.open()
        app[DB], app[DEDUP] = db, dedup
        yield
        await dedup.close()
        await db.close()
        counters = {
            "handled": registry.get_sample_value(
                "tabridge_events_handled_total",
                {"group": group, "topic": topic, "type": Thing.TYPE},
            ),
            "duplicates": registry.get_sample_value(
                "tabridge_events_skipped_total",
                {"group": group, "topic": topic, "reason": "duplicate"},
            ),
        }
        print(json.dumps(counters), flush=True)

    async def handle(event: Event, ctx: MessageContext) -> None:
        assert isinstance(event, Thing)
        db = app[DB]
        await db.execute(
            "INSERT INTO effects (event_id, thing, n) VALUES (?, ?, ?)",
            (ctx.envelope.id, event.thing_id, event.n),
        )
        await db.execute(
            "INSERT OR IGNORE INTO processed_events (consumer_group, event_id) VALUES (?, ?)",
            (group, ctx.envelope.id),
        )
        await db.commit()  # effect and de-duplication mark: one transaction

    router = Router()
    router.route(Thing, handle)
    app.cleanup_ctx.append(store)
    app.cleanup_ctx.append(
        publisher_context(
            PUBLISHER,
            lambda a: EventPublisher(transport.producer(client_id="worker"), source="/worker"),
        )
    )
    app.cleanup_ctx.append(
        consumer_context(
            RUNNER,
            lambda a: ConsumerRunner(
                transport=transport,
                group_id=group,
                topics=[topic],
                router=router,
                catalog=catalog,
                publisher=a[PUBLISHER],
                logger=logger,
                metrics=metrics,
                dedup=a[DEDUP],
                commit_policy=CommitPolicy(every_messages=commit_every, every_seconds=3600),
                max_batch=20,
            ),
        )
    )
    return app


def main(argv: list[str]) -> None:
    bootstrap, topic, group, db_path, commit_every = argv[1:6]
    serve(
        build_app(bootstrap, topic, group, Path(db_path), int(commit_every)),
        host="127.0.0.1",
        port=0,
    )


if __name__ == "__main__":
    main(sys.argv)
