"""In-memory twin of the notifier store, for tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from .deliveries import Attempt, Delivery, DeliveryStatus, Lane
from .delivery_stats import DeliveryStats
from .subscriptions import Partner, Subscription, SubscriptionStatus


class MemoryStore:
    """Dict-backed :class:`~services.notifier.store.NotifierStore`."""

    def __init__(self) -> None:
        self._partners: dict[str, Partner] = {}
        self._keys: dict[str, str] = {}
        self._subscriptions: dict[str, Subscription] = {}
        self._deliveries: dict[str, Delivery] = {}
        self._attempts: list[Attempt] = []
        self._seq = 0

    async def add_partner(self, partner: Partner, *, key_hashes: Iterable[str]) -> None:
        self._partners[partner.id] = partner
        for key_hash in key_hashes:
            self._keys[key_hash] = partner.id

    async def set_partner_keys(self, partner: Partner, *, key_hashes: Iterable[str]) -> None:
        self._keys = {h: p for h, p in self._keys.items() if p != partner.id}
        await self.add_partner(partner, key_hashes=key_hashes)

    async def partner_by_key_hash(self, key_hash: str) -> Partner | None:
        partner_id = self._keys.get(key_hash)
        return self._partners.get(partner_id) if partner_id else None

    async def insert_subscription(self, subscription: Subscription) -> None:
        self._subscriptions[subscription.id] = subscription

    async def get_subscription(self, subscription_id: str) -> Subscription | None:
        return self._subscriptions.get(subscription_id)

    async def list_subscriptions(
        self, partner_id: str, *, after: str | None = None, limit: int = 100
    ) -> list[Subscription]:
        owned = sorted(
            (s for s in self._subscriptions.values() if s.partner_id == partner_id),
            key=lambda s: s.id,
        )
        return [s for s in owned if after is None or s.id > after][:limit]

    async def routable_subscriptions(self) -> list[Subscription]:
        return [
            s for s in self._subscriptions.values() if s.status is not SubscriptionStatus.DISABLED
        ]

    async def save_subscription(self, subscription: Subscription) -> None:
        current = self._subscriptions.get(subscription.id)
        if current is not None:
            subscription = replace(subscription, failing_since=current.failing_since)
            self._subscriptions[subscription.id] = subscription

    async def delete_subscription(self, subscription_id: str) -> None:
        self._subscriptions.pop(subscription_id, None)
        self._deliveries = {
            k: d for k, d in self._deliveries.items() if d.subscription_id != subscription_id
        }
        self._attempts = [a for a in self._attempts if a.subscription_id != subscription_id]

    async def note_endpoint_failure(self, subscription_id: str, at: datetime) -> datetime | None:
        current = self._subscriptions.get(subscription_id)
        if current is None:
            return None
        if current.failing_since is None:
            current = replace(current, failing_since=at)
            self._subscriptions[subscription_id] = current
        return current.failing_since

    async def note_endpoint_success(self, subscription_id: str) -> None:
        current = self._subscriptions.get(subscription_id)
        if current is not None and current.failing_since is not None:
            self._subscriptions[subscription_id] = replace(current, failing_since=None)

    async def enqueue(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        known = {(d.subscription_id, d.event_id, d.generation) for d in self._deliveries.values()}
        added: list[Delivery] = []
        for delivery in deliveries:
            key = (delivery.subscription_id, delivery.event_id, delivery.generation)
            if key in known or delivery.subscription_id not in self._subscriptions:
                continue
            known.add(key)
            self._seq += 1
            stored = replace(delivery, seq=self._seq)
            self._deliveries[stored.id] = stored
            added.append(stored)
        return added

    def _pending(self) -> list[Delivery]:
        return sorted(
            (d for d in self._deliveries.values() if d.status is DeliveryStatus.PENDING),
            key=lambda d: d.seq,
        )

    async def write_batch(
        self,
        new: Sequence[Delivery],
        attempts: Sequence[tuple[Attempt, Delivery]] = (),
    ) -> list[Delivery]:
        added = await self.enqueue(new)
        for attempt, delivery in attempts:
            await self.record_attempt(attempt, delivery)
        return added

    async def lane_pending(self, lane: Lane) -> list[Delivery]:
        return [d for d in self._pending() if d.lane == lane]

    async def lane_head(self, lane: Lane) -> Delivery | None:
        return next((d for d in self._pending() if d.lane == lane), None)

    async def pending_lanes(self, subscription_id: str | None = None) -> list[Lane]:
        lanes = [
            d.lane
            for d in self._pending()
            if subscription_id is None or d.subscription_id == subscription_id
        ]
        return list(dict.fromkeys(lanes))

    async def record_attempt(self, attempt: Attempt, delivery: Delivery) -> None:
        current = self._deliveries.get(delivery.id)
        if current is None:
            return
        self._attempts.append(attempt)
        if current.status is DeliveryStatus.PENDING:
            await self.update_delivery(delivery)

    async def update_delivery(self, delivery: Delivery) -> None:
        current = self._deliveries.get(delivery.id)
        if current is not None:
            self._deliveries[delivery.id] = replace(delivery, seq=current.seq)

    async def get_delivery(self, delivery_id: str) -> Delivery | None:
        return self._deliveries.get(delivery_id)

    async def list_attempts(
        self, subscription_id: str, *, limit: int = 100, event_id: str | None = None
    ) -> list[Attempt]:
        found = [
            a
            for a in reversed(self._attempts)
            if a.subscription_id == subscription_id and (event_id is None or a.event_id == event_id)
        ]
        return found[:limit]

    async def redrivable(self, subscription_id: str, *, since: datetime | None) -> list[Delivery]:
        latest: dict[str, Delivery] = {}
        for d in sorted(self._deliveries.values(), key=lambda d: d.seq):
            if d.subscription_id != subscription_id:
                continue
            if d.event_id not in latest or d.generation > latest[d.event_id].generation:
                latest[d.event_id] = d
        chosen = [
            d
            for d in latest.values()
            if (d.status is DeliveryStatus.FAILED and since is None)
            or (d.status is not DeliveryStatus.PENDING and since and d.created_at >= since)
        ]
        return sorted(chosen, key=lambda d: d.seq)

    async def fail_pending(
        self, subscription_id: str, *, error: str, at: datetime
    ) -> list[Delivery]:
        failed: list[Delivery] = []
        for d in self._pending():
            if d.subscription_id == subscription_id:
                done = replace(d, status=DeliveryStatus.FAILED, last_error=error, finished_at=at)
                self._deliveries[d.id] = done
                failed.append(done)
        return failed

    async def delivery_stats(self) -> list[DeliveryStats]:
        latest: dict[tuple[str, str], Delivery] = {}
        for d in self._deliveries.values():
            key = (d.subscription_id, d.event_id)
            if key not in latest or d.generation > latest[key].generation:
                latest[key] = d
        stats = []
        for sub in sorted(self._subscriptions.values(), key=lambda s: s.id):
            counts = dict.fromkeys(DeliveryStatus, 0)
            for (sub_id, _), d in latest.items():
                if sub_id == sub.id:
                    counts[d.status] += 1
            last = next((a for a in reversed(self._attempts) if a.subscription_id == sub.id), None)
            stats.append(
                DeliveryStats(
                    subscription_id=sub.id,
                    partner_id=sub.partner_id,
                    status=sub.status.value,
                    delivered=counts[DeliveryStatus.DELIVERED],
                    failed=counts[DeliveryStatus.FAILED],
                    pending=counts[DeliveryStatus.PENDING],
                    last_attempt_at=last.started_at if last else None,
                    last_outcome=last.outcome if last else None,
                    last_status_code=last.status_code if last else None,
                )
            )
        return stats
