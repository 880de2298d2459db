"""Deliveries (one event for one subscription) and the attempts made to deliver them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .events import IncomingEvent

RESPONSE_EXCERPT_BYTES = 1024


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Lane:
    """The unit of ordering: one activity's events for one subscription, delivered in turn."""

    subscription_id: str
    subject: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event owed to one subscription.

    ``event_id`` is the webhook-id, the same on every attempt and every redrive; ``seq``
    orders deliveries within a lane; ``generation`` is 0 for the original and grows with each
    redrive. ``attempts`` counts attempts made; ``next_attempt_at`` is when the next may run.
    """

    id: str
    subscription_id: str
    event_id: str
    event_type: str
    subject: str
    body: bytes
    traceparent: str | None
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    seq: int = 0
    generation: int = 0
    last_error: str | None = None
    finished_at: datetime | None = None

    @property
    def lane(self) -> Lane:
        return Lane(self.subscription_id, self.subject)

    @classmethod
    def for_event(cls, event: IncomingEvent, subscription_id: str, *, now: datetime) -> Delivery:
        return cls(
            id="dlv_" + secrets.token_hex(16),
            subscription_id=subscription_id,
            event_id=event.id,
            event_type=event.type,
            subject=event.subject,
            body=event.body,
            traceparent=event.traceparent,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )

    def redriven(self, *, now: datetime, generation: int) -> Delivery:
        """A fresh pending copy with the same webhook-id, body and acceptance time."""
        return Delivery(
            id="dlv_" + secrets.token_hex(16),
            subscription_id=self.subscription_id,
            event_id=self.event_id,
            event_type=self.event_type,
            subject=self.subject,
            body=self.body,
            traceparent=self.traceparent,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=self.created_at,
            generation=generation,
        )


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"  # 2xx
    RETRY = "retry"  # any other answer, a timeout or a network error
    GONE = "gone"  # 410: the receiver unsubscribes
    REFUSED = "refused"  # SSRF policy refused the target at connect time


@dataclass(frozen=True, slots=True)
class Attempt:
    """One HTTP attempt, as recorded and as shown to the partner."""

    id: str
    delivery_id: str
    subscription_id: str
    event_id: str
    number: int
    started_at: datetime
    outcome: AttemptOutcome
    latency_ms: int
    status_code: int | None = None
    response_excerpt: str | None = None
    error: str | None = None
