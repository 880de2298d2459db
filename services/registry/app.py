"""The registry's composition root: `create_app(settings)` builds the whole process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from functools import partial

from aiohttp import web

from services.registry.admin import add_admin_routes
from services.registry.auth import KeyCache, ScopedRoutes, auth_middleware
from services.registry.bulk import add_bulk_routes
from services.registry.commands import ActivityCommands
from services.registry.db.activities import ActivityTable
from services.registry.db.api_keys import ApiKeyTable
from services.registry.db.computed_tags import ComputedTagTable
from services.registry.db.idempotency import IdempotencyTable
from services.registry.db.outbox import OutboxTable
from services.registry.db.store import open_registry_database
from services.registry.handlers import handle_sdg_tags_run
from services.registry.openapi import openapi_view
from services.registry.relay import OutboxRelay, RelayMetrics
from services.registry.settings import RegistrySettings
from services.registry.state import (
    ACTIVITIES,
    COMMANDS,
    COMPUTED,
    DB,
    KEY_CACHE,
    KEYS,
    OUTBOX,
    PUBLISHER,
    RELAY,
    SETTINGS,
    TAGS_CONSUMER,
)
from services.registry.status import add_registry_status
from services.registry.views import add_activity_routes
from shared import (
    READINESS,
    ConsumerRunner,
    KafkaTransport,
    Observability,
    Router,
    Transport,
    build_observability,
    consumer_context,
    create_base_app,
    publisher_context,
    retry_topic,
)
from shared.domain import load_codelists
from shared.events import SDG_TAGS, SdgTagsAssigned, build_catalog, namespaced, startup_topics


def create_app(
    settings: RegistrySettings,
    *,
    transport: Transport | None = None,
    observability: Observability | None = None,
    clock: Callable[[], datetime] | None = None,
) -> web.Application:
    obs = observability or build_observability("registry", settings)
    kafka = transport or KafkaTransport(settings.kafka_bootstrap_servers)
    catalog = build_catalog()
    app = create_base_app(
        service="registry",
        logger=obs.logger,
        registry=obs.registry,
        tracer=obs.tracer,
        max_body_bytes=max(settings.bulk_max_bytes, settings.max_body_bytes),
        settings=settings,
    )
    app[SETTINGS] = settings
    app.middlewares.append(auth_middleware(lambda: app[KEY_CACHE]))

    async def database(app: web.Application) -> AsyncIterator[None]:
        db = await open_registry_database(settings)
        app[DB] = db
        app[KEYS] = ApiKeyTable(db)
        app[KEY_CACHE] = KeyCache(app[KEYS])
        app[ACTIVITIES] = ActivityTable(db)
        app[COMPUTED] = ComputedTagTable(db)
        app[OUTBOX] = OutboxTable(db)
        app[COMMANDS] = ActivityCommands(
            db=db,
            activities=app[ACTIVITIES],
            outbox=app[OUTBOX],
            idempotency=IdempotencyTable(),
            codelists=load_codelists(),
            clock=clock or (lambda: datetime.now(UTC)),
            iati_org_ref=settings.iati_org_ref,
            on_commit=lambda written: app[RELAY].handed(written) if RELAY in app else None,
        )
        app[READINESS]["database"] = db.ping
        yield
        await db.close()

    async def relay(app: web.Application) -> AsyncIterator[None]:
        relay = OutboxRelay(
            db=app[DB],
            outbox=app[OUTBOX],
            publisher=app[PUBLISHER],
            catalog=catalog,
            logger=obs.logger,
            metrics=RelayMetrics(obs.registry),
            namespace=settings.topic_namespace,
            batch_size=settings.relay_batch_size,
            poll_interval=settings.relay_poll_seconds,
        )
        app[RELAY] = relay
        task = asyncio.create_task(relay.run(), name="outbox-relay")
        yield
        relay.stop()
        await asyncio.wait({task}, timeout=15)
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    def tags_consumer(app: web.Application) -> ConsumerRunner:
        router = Router()
        router.route_batch(SdgTagsAssigned, partial(handle_sdg_tags_run, table=app[COMPUTED]))
        return ConsumerRunner(
            transport=kafka,
            group_id=settings.namespaced_group(settings.consumer_group),
            retry_topic=retry_topic(settings.consumer_group, settings.topic_namespace),
            topics=[namespaced(SDG_TAGS, settings.topic_namespace)],
            router=router,
            catalog=catalog,
            publisher=app[PUBLISHER],
            logger=obs.logger,
            metrics=obs.metrics,
            tracer=obs.tracer,
        )

    app.cleanup_ctx.append(obs.cleanup_context)
    app.cleanup_ctx.append(database)
    app.cleanup_ctx.append(startup_topics(kafka, settings, groups=[settings.consumer_group]))
    app.cleanup_ctx.append(
        publisher_context(
            PUBLISHER,
            lambda a: obs.event_publisher(kafka, source=settings.source),
        )
    )
    app.cleanup_ctx.append(relay)
    app.cleanup_ctx.append(consumer_context(TAGS_CONSUMER, tags_consumer))
    routes = ScopedRoutes(app)
    add_activity_routes(routes)
    add_bulk_routes(routes, settings)
    add_admin_routes(routes)
    add_registry_status(app, settings, kafka, clock)
    app.router.add_get("/openapi.json", openapi_view)
    return app
