"""sdg-tagger's composition root: `create_app(settings)` builds the whole process.

Cleanup contexts, in start order (stopped in reverse): observability, the tag store,
topics (and the Kafka readiness check), the event publisher, the activity consumer.
Nothing connects before the app starts; the model artifact is read here, so a broken
deployment fails at start-up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import partial

from aiohttp import web

from services.sdg_tagger.db import EmittedTable, open_tagger_database
from services.sdg_tagger.handlers import handle_activity_change, handle_withdrawn
from services.sdg_tagger.metrics import TaggerMetrics
from services.sdg_tagger.openapi import openapi_view
from services.sdg_tagger.recent import RecentResults
from services.sdg_tagger.settings import TaggerSettings
from services.sdg_tagger.state import CONSUMER, METRICS, PUBLISHER, SETTINGS, STORE, TAGGER
from services.sdg_tagger.status import add_tagger_status
from services.sdg_tagger.tagger import SdgTagger
from services.sdg_tagger.views import add_routes
from shared import (
    READINESS,
    CleanupContext,
    ConsumerRunner,
    KafkaTransport,
    Observability,
    RetryableError,
    RetryPolicy,
    Router,
    Transport,
    TransportError,
    build_observability,
    consumer_context,
    create_base_app,
    publisher_context,
    retry_topic,
)
from shared.events import (
    ACTIVITY_EVENTS,
    SDG_TAGS,
    ActivityRegistered,
    ActivityUpdated,
    ActivityWithdrawn,
    build_catalog,
    namespaced,
    startup_topics,
)

SERVICE = "sdg-tagger"

# A broker hiccup while publishing the tags is worth retrying before dead-lettering.
RETRY = RetryPolicy(retryable=(RetryableError, OSError, TimeoutError, TransportError))


def _store(settings: TaggerSettings) -> CleanupContext:
    async def store(app: web.Application) -> AsyncIterator[None]:
        db = await open_tagger_database(settings)
        app[STORE] = EmittedTable(db)
        app[READINESS]["database"] = db.ping
        yield
        await db.close()

    return store


def activity_router(app: web.Application, settings: TaggerSettings, obs: Observability) -> Router:
    """The one routing table of the activity consumer (also used by the replay)."""
    metrics = app[METRICS]
    on_change = partial(
        handle_activity_change,
        tagger=app[TAGGER],
        store=app[STORE],
        publish=app[PUBLISHER].publish_all,
        tags_topic=namespaced(SDG_TAGS, settings.topic_namespace),
        metrics=metrics,
        logger=obs.logger,
        recent=RecentResults(settings.recent_results),
    )
    router = Router()
    router.route(ActivityRegistered, on_change)
    router.route(ActivityUpdated, on_change)
    router.route(ActivityWithdrawn, partial(handle_withdrawn, store=app[STORE], metrics=metrics))
    return router


def activity_consumer(
    settings: TaggerSettings,
    obs: Observability,
    kafka: Transport,
    *,
    group_id: str,
    retry: str | None = None,
) -> Callable[[web.Application], ConsumerRunner]:
    def build(app: web.Application) -> ConsumerRunner:
        return ConsumerRunner(
            transport=kafka,
            group_id=group_id,
            retry_topic=retry,
            topics=[namespaced(ACTIVITY_EVENTS, settings.topic_namespace)],
            router=activity_router(app, settings, obs),
            catalog=build_catalog(),
            publisher=app[PUBLISHER],
            logger=obs.logger,
            metrics=obs.metrics,
            tracer=obs.tracer,
            retry_policy=RETRY,
        )

    return build


def create_app(
    settings: TaggerSettings,
    *,
    transport: Transport | None = None,
    observability: Observability | None = None,
    tagger: SdgTagger | None = None,
    group_id: str | None = None,
) -> web.Application:
    """The whole process; nothing connects until the app starts.

    `group_id` replaces the settings' consumer group id, taken as given (the replay uses a
    fresh one, already namespaced).
    Raises `ArtifactInvalid` when the packaged model cannot be loaded.
    """
    obs = observability or build_observability(SERVICE, settings)
    kafka = transport or KafkaTransport(settings.kafka_bootstrap_servers)
    app = create_base_app(
        service=SERVICE,
        logger=obs.logger,
        registry=obs.registry,
        tracer=obs.tracer,
        max_body_bytes=settings.max_body_bytes,
        settings=settings,
    )
    app[SETTINGS] = settings
    app[TAGGER] = tagger or SdgTagger.load()
    app[METRICS] = TaggerMetrics(obs.registry)
    app.cleanup_ctx.append(obs.cleanup_context)
    app.cleanup_ctx.append(_store(settings))
    # The service's own group reads its retry topic; a replay's one-off group has none.
    own_group = group_id is None
    app.cleanup_ctx.append(
        startup_topics(kafka, settings, groups=[settings.group_id] if own_group else [])
    )
    app.cleanup_ctx.append(
        publisher_context(
            PUBLISHER,
            lambda a: obs.event_publisher(kafka, source=settings.source),
        )
    )
    group = group_id or settings.namespaced_group(settings.group_id)
    retry = retry_topic(settings.group_id, settings.topic_namespace) if own_group else None
    app.cleanup_ctx.append(
        consumer_context(
            CONSUMER, activity_consumer(settings, obs, kafka, group_id=group, retry=retry)
        )
    )
    add_routes(app)
    add_tagger_status(app, settings, kafka, group_id=group, retry=retry)
    app.router.add_get("/openapi.json", openapi_view)
    return app
