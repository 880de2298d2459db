"""Subscriptions: who wants which events, where, signed with what.

A subscription belongs to one partner. It is ``active`` (events are queued and delivered),
``paused`` (events are queued and held until it is active again) or ``disabled`` (nothing is
queued; set by the partner, by a 410 Gone answer, or after the endpoint failed continuously
for the configured window).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from .signing import generate_secret


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class Partner:
    """A partner system: the owner of subscriptions and holder of API keys."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Filters:
    """What an event must carry to be delivered; an empty set does not constrain.

    ``countries`` and ``communities`` form one geographic facet: an event matches it when
    one of its countries is listed, is a member of a listed community, or when the event
    names a listed community itself.
    """

    countries: frozenset[str] = frozenset()
    communities: frozenset[str] = frozenset()
    sdgs: frozenset[int] = frozenset()
    categories: frozenset[str] = frozenset()
    partners: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SigningSecret:
    """A secret and, once superseded by a rotation, the end of its overlap window."""

    value: str
    expires_at: datetime | None = None

    def in_force(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True, slots=True)
class Subscription:
    """One webhook subscription. Immutable: changes produce a new value."""

    id: str
    partner_id: str
    url: str
    event_types: frozenset[str]
    filters: Filters
    secrets: tuple[SigningSecret, ...]
    status: SubscriptionStatus
    created_at: datetime
    updated_at: datetime
    description: str = ""
    disabled_reason: str | None = None
    failing_since: datetime | None = field(default=None, compare=False)

    @classmethod
    def new(
        cls,
        *,
        partner_id: str,
        url: str,
        event_types: frozenset[str],
        filters: Filters,
        now: datetime,
        description: str = "",
    ) -> Subscription:
        return cls(
            id="sub_" + uuid.uuid4().hex,
            partner_id=partner_id,
            url=url,
            event_types=event_types,
            filters=filters,
            secrets=(SigningSecret(generate_secret()),),
            status=SubscriptionStatus.ACTIVE,
            created_at=now,
            updated_at=now,
            description=description,
        )

    @property
    def current_secret(self) -> str:
        return self.secrets[0].value

    def secrets_in_force(self, now: datetime) -> list[str]:
        """Secrets to sign with now: the current one plus any still inside its overlap."""
        return [s.value for s in self.secrets if s.in_force(now)]

    def wants(self, event_type: str) -> bool:
        return "*" in self.event_types or event_type in self.event_types

    def rotated(self, *, now: datetime, overlap: timedelta) -> Subscription:
        """A new current secret; the old one keeps signing until ``now + overlap``."""
        kept = tuple(
            replace(s, expires_at=s.expires_at or now + overlap)
            for s in self.secrets
            if s.in_force(now)
        )
        fresh = SigningSecret(generate_secret())
        return replace(self, secrets=(fresh, *kept), updated_at=now)

    def with_status(
        self, status: SubscriptionStatus, *, now: datetime, reason: str | None = None
    ) -> Subscription:
        return replace(
            self,
            status=status,
            disabled_reason=reason if status is SubscriptionStatus.DISABLED else None,
            failing_since=None if status is SubscriptionStatus.ACTIVE else self.failing_since,
            updated_at=now,
        )
