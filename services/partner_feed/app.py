"""partner-feed's composition root: `create_app(settings)` builds the whole process.

Cleanup contexts, in start order (stopped in reverse): observability, the two store
connections, topics, the event publisher, the import runner, the feed-view consumer, the
HTTP client and pull scheduler.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from functools import partial

import aiohttp
from aiohttp import web

from services.partner_feed.db.database import Store
from services.partner_feed.feed_mapping import Publisher
from services.partner_feed.formats import Limits
from services.partner_feed.handlers import handle_activity, handle_sdg_tags
from services.partner_feed.imports import ImportRunner
from services.partner_feed.metrics import FeedMetrics
from services.partner_feed.openapi import openapi_view
from services.partner_feed.partners import PartnerDirectory
from services.partner_feed.pipeline import ImportPipeline, PipelineDeps
from services.partner_feed.publication import RemovalGuard
from services.partner_feed.puller import Puller
from services.partner_feed.scheduler import PullScheduler
from services.partner_feed.settings import FeedSettings
from services.partner_feed.state import (
    CLOCK,
    CODELISTS,
    FEED_CONSUMER,
    FEED_STORE,
    IMPORT_STORE,
    IMPORTS,
    METRICS,
    PARTNERS,
    PUBLISHER,
    PUBLISHER_ORG,
    PULLER,
    SETTINGS,
)
from services.partner_feed.status import add_feed_status
from services.partner_feed.views.feeds import add_feed_routes
from services.partner_feed.views.imports import add_import_routes
from services.partner_feed.views.partners import add_partner_routes
from services.partner_feed.views.quality import add_quality_routes
from shared import (
    READINESS,
    CleanupContext,
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
from shared.events import (
    ACTIVITY_EVENTS,
    SDG_TAGS,
    ActivityRegistered,
    ActivityUpdated,
    ActivityWithdrawn,
    SdgTagsAssigned,
    build_catalog,
    namespaced,
    startup_topics,
)


def _stores(settings: FeedSettings) -> CleanupContext:
    async def stores(app: web.Application) -> AsyncIterator[None]:
        app[IMPORT_STORE] = imports = await Store.open(settings.db_path)
        app[FEED_STORE] = feed = await Store.open(settings.db_path)
        app[READINESS]["database"] = feed.ping
        yield
        await feed.close()
        await imports.close()

    return stores


def _import_runner(settings: FeedSettings, obs: Observability) -> CleanupContext:
    async def import_runner(app: web.Application) -> AsyncIterator[None]:
        pipeline = ImportPipeline(
            PipelineDeps(
                store=app[IMPORT_STORE],
                feed_store=app[FEED_STORE],
                publish=app[PUBLISHER].publish_all,
                clock=app[CLOCK],
                logger=obs.logger,
                namespace=settings.topic_namespace,
                limits=Limits(max_input_bytes=settings.upload_max_bytes * 4),
                report_max_entries=settings.report_max_entries,
                match_threshold=settings.match_threshold,
                metrics=app[METRICS],
                removal_guard=RemovalGuard(settings.removal_guard_share),
            )
        )
        runner = ImportRunner(
            pipeline=pipeline,
            store=app[IMPORT_STORE],
            clock=app[CLOCK],
            logger=obs.logger,
            max_concurrent=settings.max_concurrent_imports,
        )
        await runner.recover()
        app[IMPORTS] = runner
        yield
        await runner.close()

    return import_runner


def _feed_consumer(
    settings: FeedSettings, obs: Observability, kafka: Transport
) -> Callable[[web.Application], ConsumerRunner]:
    def build(app: web.Application) -> ConsumerRunner:
        router = Router()
        on_activity = partial(handle_activity, store=app[FEED_STORE])
        for model in (ActivityRegistered, ActivityUpdated, ActivityWithdrawn):
            router.route(model, on_activity)
        router.route(SdgTagsAssigned, partial(handle_sdg_tags, store=app[FEED_STORE]))
        ns = settings.topic_namespace
        return ConsumerRunner(
            transport=kafka,
            group_id=settings.namespaced_group(settings.consumer_group),
            retry_topic=retry_topic(settings.consumer_group, settings.topic_namespace),
            topics=[namespaced(ACTIVITY_EVENTS, ns), namespaced(SDG_TAGS, ns)],
            router=router,
            catalog=build_catalog(),
            publisher=app[PUBLISHER],
            logger=obs.logger,
            metrics=obs.metrics,
            tracer=obs.tracer,
        )

    return build


def _pulls(settings: FeedSettings, obs: Observability) -> CleanupContext:
    async def pulls(app: web.Application) -> AsyncIterator[None]:
        timeout = aiohttp.ClientTimeout(total=settings.pull_timeout_seconds)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            app[PULLER] = puller = Puller(
                session=session,
                store=app[IMPORT_STORE],
                imports=app[IMPORTS],
                clock=app[CLOCK],
                logger=obs.logger,
                metrics=app[METRICS],
                limit=settings.upload_max_bytes,
                spool_dir=settings.upload_dir,
            )
            scheduler = PullScheduler(puller, app[PARTNERS].pulled(), obs.logger)
            if settings.pull_enabled:
                scheduler.start()
            yield
            await scheduler.stop()

    return pulls


def create_app(
    settings: FeedSettings,
    *,
    transport: Transport | None = None,
    observability: Observability | None = None,
    clock: Callable[[], datetime] | None = None,
) -> web.Application:
    """The whole process; nothing connects until the app starts."""
    obs = observability or build_observability("partner-feed", settings)
    kafka = transport or KafkaTransport(settings.kafka_bootstrap_servers)
    app = create_base_app(
        service="partner-feed",
        logger=obs.logger,
        registry=obs.registry,
        tracer=obs.tracer,
        max_body_bytes=settings.upload_max_bytes,
        settings=settings,
    )
    app[SETTINGS] = settings
    app[PARTNERS] = PartnerDirectory(settings.partners)
    app[PUBLISHER_ORG] = Publisher(settings.iati_org_ref, settings.iati_org_name)
    app[CODELISTS] = load_codelists()
    app[CLOCK] = clock or (lambda: datetime.now(UTC))
    app[METRICS] = FeedMetrics(obs.registry)
    app.cleanup_ctx.append(obs.cleanup_context)
    app.cleanup_ctx.append(_stores(settings))
    app.cleanup_ctx.append(startup_topics(kafka, settings, groups=[settings.consumer_group]))
    app.cleanup_ctx.append(
        publisher_context(
            PUBLISHER,
            lambda a: obs.event_publisher(kafka, source=settings.source),
        )
    )
    app.cleanup_ctx.append(_import_runner(settings, obs))
    app.cleanup_ctx.append(consumer_context(FEED_CONSUMER, _feed_consumer(settings, obs, kafka)))
    app.cleanup_ctx.append(_pulls(settings, obs))
    add_import_routes(app)
    add_feed_routes(app)
    add_partner_routes(app)
    add_quality_routes(app)
    add_feed_status(app, settings, kafka)
    app.router.add_get("/openapi.json", openapi_view)
    return app
