"""notifier's composition root: `create_app(settings)` builds the whole process.

Cleanup contexts, in start order (stopped in reverse, so the consumer stops first, then the
dispatcher, then the publisher, then the HTTP session and the store): observability, the
store (and partner keys from the settings), topics, the webhook HTTP session, the event
publisher, the dispatcher (with the subscription API's manager), the consumer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path

from aiohttp import web
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import ThreadedResolver
from structlog.typing import FilteringBoundLogger

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
    SdgTagsAssigned,
    build_catalog,
    namespaced,
    startup_topics,
)

from .activity_index import SqliteActivityIndex
from .clock import SystemClock
from .consumer import ACTIVITY_CHANGES, handle_activity_changes, handle_sdg_tags
from .dead_letters import KafkaDeadLetters
from .dispatcher import Dispatcher, DispatchLimits
from .filters import CommunityMembers
from .management import SubscriptionManager
from .metrics import PrometheusDeliveryMetrics
from .openapi import openapi_view
from .schedule import RetrySchedule
from .secret_box import KEY_FILE_NAME, SecretBox
from .sender import WebhookSender, vetted_session
from .settings import NotifierSettings
from .sqlite_store import SqliteStore
from .ssrf import TargetPolicy
from .state import (
    CONSUMER,
    DEAD_LETTERS,
    DISPATCHER,
    INDEX,
    PUBLISHER,
    SESSION,
    SETTINGS,
    STORE,
)
from .status import add_notifier_status
from .subscriptions import Partner
from .views import MANAGER, add_subscription_routes


def community_members() -> CommunityMembers:
    return {code: c.members for code, c in load_codelists().communities.items()}


def _secret_box(settings: NotifierSettings, logger: FilteringBoundLogger) -> SecretBox:
    if settings.secret_keys:
        return SecretBox.from_settings(settings.secret_keys)
    path = Path(settings.db_path).parent / KEY_FILE_NAME
    box, created = SecretBox.from_key_file(path)
    logger.warning(
        "notifier.secret_key_file",
        path=str(path),
        created=created,
        detail="NOTIFIER_SECRET_KEYS is not set: signing secrets are sealed with a key "
        "file beside the store (development only; deployments set the variable)",
    )
    return box


def _store(settings: NotifierSettings, logger: FilteringBoundLogger) -> CleanupContext:
    async def store(app: web.Application) -> AsyncIterator[None]:
        Path(settings.db_path).parent.mkdir(parents=True, exist_ok=True)
        box = _secret_box(settings, logger)
        app[STORE] = sqlite = await SqliteStore.open(settings.db_path, secret_box=box)
        if sqlite.resealed:
            logger.info(
                "notifier.secrets_resealed", subscriptions=sqlite.resealed, key=box.sealing_key_id
            )
        try:
            app[INDEX] = index = await SqliteActivityIndex.sharing(sqlite.db)
            try:
                for partner_id, partner in settings.partner_keys.items():
                    await sqlite.set_partner_keys(
                        Partner(partner_id, partner.name), key_hashes=sorted(partner.key_hashes())
                    )
                app[READINESS]["database"] = index.ping
                yield
            finally:
                await index.close()
        finally:
            await sqlite.close()

    return store


def _session(policy: TargetPolicy, resolver: AbstractResolver | None) -> CleanupContext:
    async def session(app: web.Application) -> AsyncIterator[None]:
        async with vetted_session(policy, resolver=resolver) as client:
            app[SESSION] = client
            yield

    return session


def _dispatcher(
    settings: NotifierSettings,
    obs: Observability,
    policy: TargetPolicy,
    resolver: AbstractResolver | None,
) -> CleanupContext:
    async def dispatcher(app: web.Application) -> AsyncIterator[None]:
        members = community_members()
        clock = SystemClock()
        sink = KafkaDeadLetters(
            publisher=app[PUBLISHER], store=app[STORE], namespace=settings.topic_namespace
        )
        app[DEAD_LETTERS] = sink
        engine = Dispatcher(
            store=app[STORE],
            sender=WebhookSender(
                app[SESSION],
                policy,
                timeout=settings.attempt_timeout_seconds,
                tracer=obs.tracer,
            ),
            clock=clock,
            schedule=RetrySchedule(
                delays=settings.retry_delays,
                jitter=settings.retry_jitter,
                scale=settings.retry_scale,
            ),
            community_members=members,
            dead_letter=sink.dead_letter,
            on_disabled=sink.subscription_disabled,
            metrics=PrometheusDeliveryMetrics(obs.registry),
            limits=DispatchLimits(
                max_in_flight=settings.max_in_flight,
                per_subscription=settings.per_subscription,
                failure_window=settings.failure_window,
            ),
            logger=obs.logger.bind(component="dispatcher"),
        )
        app[DISPATCHER] = engine
        app[MANAGER] = SubscriptionManager(
            store=app[STORE],
            dispatcher=engine,
            clock=clock,
            policy=policy,
            resolver=resolver or ThreadedResolver(),
            community_members=members,
        )
        await engine.start()
        try:
            yield
        finally:
            await engine.close()

    return dispatcher


def _consumer(
    settings: NotifierSettings, obs: Observability, kafka: Transport
) -> Callable[[web.Application], ConsumerRunner]:
    def build(app: web.Application) -> ConsumerRunner:
        dispatcher, index = app[DISPATCHER], app[INDEX]
        # Handlers hand deliveries over without a transaction each; commits wait for them.
        # Activity changes come a run at a time: one index transaction, one hand-over.
        router = Router()
        batch = partial(handle_activity_changes, accept_many=dispatcher.hand_over_many, index=index)
        for model in ACTIVITY_CHANGES:
            router.route_batch(model, batch)
        router.route(
            SdgTagsAssigned, partial(handle_sdg_tags, accept=dispatcher.hand_over, index=index)
        )
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
            # Every offset commit waits until the deliveries handed over are stored.
            durability_barrier=dispatcher.durable,
        )

    return build


def create_app(
    settings: NotifierSettings,
    *,
    transport: Transport | None = None,
    observability: Observability | None = None,
    resolver: AbstractResolver | None = None,
) -> web.Application:
    """The whole process; nothing connects until the app starts.

    ``resolver`` replaces DNS for subscription vetting and delivery (tests stage rebinding).
    """
    obs = observability or build_observability("notifier", settings)
    kafka = transport or KafkaTransport(settings.kafka_bootstrap_servers)
    policy = TargetPolicy.from_allowlist(settings.allowlist)
    app = create_base_app(
        service="notifier",
        logger=obs.logger,
        registry=obs.registry,
        tracer=obs.tracer,
        settings=settings,
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.append(obs.cleanup_context)
    app.cleanup_ctx.append(_store(settings, obs.logger))
    app.cleanup_ctx.append(startup_topics(kafka, settings, groups=[settings.consumer_group]))
    app.cleanup_ctx.append(_session(policy, resolver))
    app.cleanup_ctx.append(
        publisher_context(
            PUBLISHER,
            lambda a: obs.event_publisher(kafka, source=settings.source),
        )
    )
    app.cleanup_ctx.append(_dispatcher(settings, obs, policy, resolver))
    app.cleanup_ctx.append(consumer_context(CONSUMER, _consumer(settings, obs, kafka)))
    add_subscription_routes(app)
    add_notifier_status(app, settings, kafka)
    app.router.add_get("/openapi.json", openapi_view)
    return app
