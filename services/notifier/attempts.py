"""Turning one HTTP result into an attempt record and the delivery's next state."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime

from .deliveries import Attempt, AttemptOutcome, Delivery, DeliveryStatus
from .sender import SendResult


def attempt_record(delivery: Delivery, result: SendResult, *, started_at: datetime) -> Attempt:
    """The attempt as stored and shown to the partner."""
    return Attempt(
        id="att_" + secrets.token_hex(16),
        delivery_id=delivery.id,
        subscription_id=delivery.subscription_id,
        event_id=delivery.event_id,
        number=delivery.attempts + 1,
        started_at=started_at,
        outcome=result.outcome,
        latency_ms=result.latency_ms,
        status_code=result.status_code,
        response_excerpt=result.response_excerpt,
        error=result.error,
    )


def delivery_after(
    delivery: Delivery,
    result: SendResult,
    *,
    at: datetime,
    next_attempt_at: datetime | None = None,
) -> Delivery:
    """The delivery once this attempt is counted: delivered, or pending its next attempt."""
    if result.outcome is AttemptOutcome.DELIVERED:
        return replace(
            delivery,
            status=DeliveryStatus.DELIVERED,
            attempts=delivery.attempts + 1,
            last_error=None,
            finished_at=at,
        )
    return replace(
        delivery,
        attempts=delivery.attempts + 1,
        next_attempt_at=next_attempt_at or at,
        last_error=result.error,
    )
