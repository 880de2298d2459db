"""The events ta-bridge exchanges: models, topics and the catalogue that reads them."""

from shared.events.activity import (
    ActivityRegistered,
    ActivitySnapshot,
    ActivityUpdated,
    ActivityWithdrawn,
)
from shared.events.catalog import ALL_EVENTS, build_catalog
from shared.events.ops import SubscriptionDisabled, WebhookDeliveryFailed
from shared.events.partner import (
    PartnerRecordChanged,
    PartnerRecordLinked,
    PartnerRecordNew,
    PartnerRecordRemoved,
)
from shared.events.sdg import (
    KEPT_DECISIONS,
    ClosestTarget,
    Decision,
    GoalTag,
    SdgTagsAssigned,
    TagEvidence,
    TargetTag,
    is_kept,
)
from shared.events.topics import (
    ACTIVITY_EVENTS,
    ACTIVITY_SNAPSHOTS,
    OPS_EVENTS,
    PARTNER_LINKS,
    PARTNER_RECORDS,
    SDG_TAGS,
    SERVICE_GROUPS,
    WEBHOOK_DLQ,
    namespaced,
    startup_topics,
    topic_specs,
)

__all__ = [
    "ACTIVITY_EVENTS",
    "ACTIVITY_SNAPSHOTS",
    "ALL_EVENTS",
    "KEPT_DECISIONS",
    "OPS_EVENTS",
    "PARTNER_LINKS",
    "PARTNER_RECORDS",
    "SDG_TAGS",
    "SERVICE_GROUPS",
    "WEBHOOK_DLQ",
    "ActivityRegistered",
    "ActivitySnapshot",
    "ActivityUpdated",
    "ActivityWithdrawn",
    "ClosestTarget",
    "Decision",
    "GoalTag",
    "PartnerRecordChanged",
    "PartnerRecordLinked",
    "PartnerRecordNew",
    "PartnerRecordRemoved",
    "SdgTagsAssigned",
    "SubscriptionDisabled",
    "TagEvidence",
    "TargetTag",
    "WebhookDeliveryFailed",
    "build_catalog",
    "is_kept",
    "namespaced",
    "startup_topics",
    "topic_specs",
]
