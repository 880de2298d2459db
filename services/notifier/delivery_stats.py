"""Delivery outcomes per subscription, for the status view (`GET /v1/status`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .deliveries import AttemptOutcome


@dataclass(frozen=True, slots=True)
class DeliveryStats:
    """Counts over the latest generation of each event (a redriven event counts once, as
    its redrive does), and the subscription's most recent attempt, if any."""

    subscription_id: str
    partner_id: str
    status: str
    delivered: int
    failed: int
    pending: int
    last_attempt_at: datetime | None = None
    last_outcome: AttemptOutcome | None = None
    last_status_code: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "subscription": self.subscription_id,
            "partner": self.partner_id,
            "status": self.status,
            "delivered": self.delivered,
            "failed": self.failed,
            "pending": self.pending,
            "last_attempt": None
            if self.last_attempt_at is None
            else {
                "at": self.last_attempt_at.isoformat(),
                "outcome": self.last_outcome.value if self.last_outcome else None,
                "status_code": self.last_status_code,
            },
        }
