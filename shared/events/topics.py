"""Every topic of ta-bridge as code: name, partitions, retention, compaction."""

from __future__ import annotations

from collections.abc import Sequence

from shared._dead_letter import dlq_topic, retry_topic
from shared._lifecycle import CleanupContext, topics_context
from shared._settings import CommonSettings
from shared._transport import TopicSpec, Transport

ACTIVITY_EVENTS = "tabridge.activity.events"
ACTIVITY_SNAPSHOTS = "tabridge.activity.snapshots"
SDG_TAGS = "tabridge.sdg.tags"
PARTNER_RECORDS = "tabridge.partner.records"
PARTNER_LINKS = "tabridge.partner.links"
OPS_EVENTS = "tabridge.ops.events"
WEBHOOK_DLQ = "tabridge.webhooks.dlq"
#: The services' consumer groups under their default names (`*_CONSUMER_GROUP`,
#: `TAGGER_GROUP_ID`): `tools.topics` creates their retry topics.
SERVICE_GROUPS = ("registry", "partner-feed", "notifier", "sdg-tagger")


def namespaced(name: str, namespace: str = "") -> str:
    """The topic `name` within a namespace (`TABRIDGE_TOPIC_NAMESPACE`): several
    environments, or several tests, can share one cluster without seeing each other."""
    return f"{namespace}.{name}" if namespace else name


_WEEK_MS = 7 * 24 * 3600 * 1000
_YEAR_MS = 365 * 24 * 3600 * 1000


def topic_specs(
    *,
    replication_factor: int = 1,
    min_insync_replicas: int | None = None,
    namespace: str = "",
    groups: Sequence[str] = (),
) -> list[TopicSpec]:
    """The topics to create; production uses replication 3 and min ISR 2 (see deploy/).

    `groups` (names within the namespace) each get a retry topic, `tabridge.retry.<group>`,
    where a redrive writes that group's dead letters (see `shared._dead_letter`)."""
    rf, isr = replication_factor, min_insync_replicas

    def spec(
        name: str, partitions: int, *, compacted: bool = False, retention_ms: int | None
    ) -> TopicSpec:
        return TopicSpec(
            namespaced(name, namespace),
            partitions,
            rf,
            compacted=compacted,
            retention_ms=retention_ms,
            min_insync_replicas=isr,
        )

    main = [
        # History is the contract with partners ("replay from a point in time"): keep a year.
        spec(ACTIVITY_EVENTS, 6, retention_ms=_YEAR_MS),
        # Latest state per activity, forever: a new partner starts here.
        spec(ACTIVITY_SNAPSHOTS, 6, compacted=True, retention_ms=None),
        spec(SDG_TAGS, 6, retention_ms=_YEAR_MS),
        spec(PARTNER_RECORDS, 6, retention_ms=_YEAR_MS),
        spec(PARTNER_LINKS, 6, compacted=True, retention_ms=None),
        spec(OPS_EVENTS, 3, retention_ms=4 * _WEEK_MS),
        spec(WEBHOOK_DLQ, 3, retention_ms=4 * _WEEK_MS),
    ]
    bases = [
        ACTIVITY_EVENTS,
        ACTIVITY_SNAPSHOTS,
        SDG_TAGS,
        PARTNER_RECORDS,
        PARTNER_LINKS,
        OPS_EVENTS,
    ]
    dlqs = [spec(dlq_topic(name), 1, retention_ms=4 * _WEEK_MS) for name in bases]
    retries = [spec(retry_topic(group), 1, retention_ms=4 * _WEEK_MS) for group in groups]
    return main + dlqs + retries


def startup_topics(
    kafka: Transport, settings: CommonSettings, *, groups: Sequence[str] = ()
) -> CleanupContext:
    """The start-up topic step of every service: readiness of the broker, and every topic
    of the service's namespace (with the retry topics of its consumer `groups`) created
    when missing unless `TABRIDGE_CREATE_TOPICS=false`."""
    return topics_context(
        kafka,
        topic_specs(namespace=settings.topic_namespace, groups=groups),
        create=settings.create_topics,
    )
