"""Operational events: what operators and their alerting follow."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from shared._event_model import Event
from shared.events.topics import OPS_EVENTS


class WebhookDeliveryFailed(Event):
    """A webhook exhausted its retry schedule; the delivery went to the webhook DLQ."""

    TYPE: ClassVar[str] = "org.wipo.tabridge.ops.webhook.delivery_failed"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str] = OPS_EVENTS

    subscription_id: str
    partner: str
    event_id: str
    activity_id: str | None = None
    attempts: int
    last_status: int | None = None
    last_error: str | None = None

    def key(self) -> str:
        return self.subscription_id


class SubscriptionDisabled(Event):
    """An endpoint kept failing for the configured window (or answered 410) and was disabled."""

    TYPE: ClassVar[str] = "org.wipo.tabridge.ops.subscription.disabled"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str] = OPS_EVENTS

    subscription_id: str
    partner: str
    reason: str = Field(description="gone (HTTP 410) or failing_window")

    def key(self) -> str:
        return self.subscription_id
