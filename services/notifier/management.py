"""Subscription use cases, scoped to the calling partner.

Every method takes the authenticated partner; a subscription of another partner is
reported as not found, so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import replace
from datetime import datetime, timedelta

from aiohttp.abc import AbstractResolver

from .clock import Clock
from .deliveries import Attempt, Delivery
from .dispatcher import Dispatcher
from .errors import (
    FieldError,
    InvalidRequestError,
    SubscriptionConflictError,
    SubscriptionNotFoundError,
)
from .filters import CommunityMembers
from .partners import authenticate
from .ssrf import TargetPolicy, vet_target
from .store import NotifierStore
from .subscriptions import Filters, Partner, Subscription, SubscriptionStatus


class SubscriptionManager:
    def __init__(
        self,
        *,
        store: NotifierStore,
        dispatcher: Dispatcher,
        clock: Clock,
        policy: TargetPolicy,
        resolver: AbstractResolver,
        community_members: CommunityMembers,
    ) -> None:
        self._store = store
        self._dispatcher = dispatcher
        self._clock = clock
        self._policy = policy
        self._resolver = resolver
        self._communities: Set[str] = frozenset(community_members)

    async def create(
        self,
        partner: Partner,
        *,
        url: str,
        event_types: frozenset[str],
        filters: Filters,
        description: str = "",
    ) -> Subscription:
        """Validate (including SSRF) and store a new active subscription with a fresh secret."""
        self._check_communities(filters)
        await vet_target(url, self._policy, self._resolver)
        subscription = Subscription.new(
            partner_id=partner.id,
            url=url,
            event_types=event_types,
            filters=filters,
            now=self._clock.now(),
            description=description,
        )
        await self._store.insert_subscription(subscription)
        return subscription

    async def authenticate(self, authorization: str | None) -> Partner:
        """The partner behind an ``Authorization: Bearer`` header; raises UnauthenticatedError."""
        return await authenticate(self._store, authorization)

    async def list_owned(
        self, partner: Partner, *, after: str | None, limit: int
    ) -> list[Subscription]:
        return await self._store.list_subscriptions(partner.id, after=after, limit=limit)

    async def get(self, partner: Partner, subscription_id: str) -> Subscription:
        """Raises SubscriptionNotFoundError when missing or owned by another partner."""
        subscription = await self._store.get_subscription(subscription_id)
        if subscription is None or subscription.partner_id != partner.id:
            raise SubscriptionNotFoundError(f"no subscription {subscription_id!r}")
        return subscription

    async def update(
        self,
        partner: Partner,
        subscription_id: str,
        *,
        url: str | None = None,
        event_types: frozenset[str] | None = None,
        filters: Filters | None = None,
        status: SubscriptionStatus | None = None,
        description: str | None = None,
    ) -> Subscription:
        """Apply the given changes; a status change to active resumes held deliveries."""
        current = await self.get(partner, subscription_id)
        if filters is not None:
            self._check_communities(filters)
        if url is not None:
            await vet_target(url, self._policy, self._resolver)
        now = self._clock.now()
        changed = replace(
            current,
            url=url if url is not None else current.url,
            event_types=event_types if event_types is not None else current.event_types,
            filters=filters if filters is not None else current.filters,
            description=description if description is not None else current.description,
            updated_at=now,
        )
        if status is SubscriptionStatus.DISABLED and current.status is not status:
            await self._store.save_subscription(changed)
            return await self._dispatcher.disable(changed, "disabled by the partner")
        if status is not None and status is not current.status:
            changed = changed.with_status(status, now=now)
        await self._store.save_subscription(changed)
        if changed.status is SubscriptionStatus.ACTIVE and current.status is not changed.status:
            await self._store.note_endpoint_success(changed.id)
            await self._dispatcher.resume(changed.id)
        return changed

    async def delete(self, partner: Partner, subscription_id: str) -> None:
        await self.get(partner, subscription_id)
        await self._store.delete_subscription(subscription_id)

    async def rotate_secret(
        self, partner: Partner, subscription_id: str, *, overlap: timedelta
    ) -> Subscription:
        """New current secret; the previous one keeps signing for ``overlap``."""
        current = await self.get(partner, subscription_id)
        rotated = current.rotated(now=self._clock.now(), overlap=overlap)
        await self._store.save_subscription(rotated)
        return rotated

    async def attempts(
        self, partner: Partner, subscription_id: str, *, limit: int, event_id: str | None
    ) -> list[Attempt]:
        await self.get(partner, subscription_id)
        return await self._store.list_attempts(subscription_id, limit=limit, event_id=event_id)

    async def redrive(
        self, partner: Partner, subscription_id: str, *, since: datetime | None
    ) -> list[Delivery]:
        """Queue again the failed deliveries (or all since ``since``), same webhook-ids.

        Raises SubscriptionConflictError for a disabled subscription: re-enable it first.
        """
        current = await self.get(partner, subscription_id)
        if current.status is SubscriptionStatus.DISABLED:
            raise SubscriptionConflictError(
                "the subscription is disabled; set its status to active before a redrive"
            )
        now = self._clock.now()
        again = [
            d.redriven(now=now, generation=d.generation + 1)
            for d in await self._store.redrivable(subscription_id, since=since)
        ]
        return await self._dispatcher.submit(again)

    def _check_communities(self, filters: Filters) -> None:
        unknown = sorted(filters.communities - self._communities)
        if unknown:
            raise InvalidRequestError(
                "unknown regional community code",
                [
                    FieldError("/filters/communities", f"unknown community code {code!r}")
                    for code in unknown
                ],
            )
