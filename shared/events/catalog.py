"""The catalogue of every event ta-bridge publishes, and the upcasters between versions."""

from __future__ import annotations

from shared._event_model import Event, EventCatalog
from shared.events.activity import (
    ActivityRegistered,
    ActivitySnapshot,
    ActivityUpdated,
    ActivityWithdrawn,
)
from shared.events.ops import SubscriptionDisabled, WebhookDeliveryFailed
from shared.events.partner import (
    PartnerRecordChanged,
    PartnerRecordLinked,
    PartnerRecordNew,
    PartnerRecordRemoved,
)
from shared.events.sdg import SdgTagsAssigned

ALL_EVENTS: tuple[type[Event], ...] = (
    ActivityRegistered,
    ActivityUpdated,
    ActivityWithdrawn,
    ActivitySnapshot,
    SdgTagsAssigned,
    PartnerRecordNew,
    PartnerRecordChanged,
    PartnerRecordRemoved,
    PartnerRecordLinked,
    WebhookDeliveryFailed,
    SubscriptionDisabled,
)


def build_catalog() -> EventCatalog:
    """A fresh catalogue holding every event model and upcaster of this release."""
    catalog = EventCatalog()
    for model in ALL_EVENTS:
        catalog.register(model)
    return catalog
