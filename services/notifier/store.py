"""The notifier's storage port.

Two implementations keep the same behaviour (one test suite runs against both):
:class:`~services.notifier.memory_store.MemoryStore` for fast tests and
:class:`~services.notifier.sqlite_store.SqliteStore` for the service. Every method is atomic;
none raises for a missing row unless it says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from .deliveries import Attempt, Delivery, Lane
from .delivery_stats import DeliveryStats
from .subscriptions import Partner, Subscription


class NotifierStore(Protocol):
    async def add_partner(self, partner: Partner, *, key_hashes: Iterable[str]) -> None:
        """Create or rename ``partner`` and attach API key hashes (sha256 hex) to it."""
        ...

    async def set_partner_keys(self, partner: Partner, *, key_hashes: Iterable[str]) -> None:
        """Create or rename ``partner`` and make ``key_hashes`` its only API keys."""
        ...

    async def partner_by_key_hash(self, key_hash: str) -> Partner | None: ...

    async def insert_subscription(self, subscription: Subscription) -> None: ...

    async def get_subscription(self, subscription_id: str) -> Subscription | None: ...

    async def list_subscriptions(
        self, partner_id: str, *, after: str | None = None, limit: int = 100
    ) -> list[Subscription]:
        """A partner's subscriptions ordered by id, those with ids greater than ``after``."""
        ...

    async def routable_subscriptions(self) -> list[Subscription]:
        """Subscriptions that take new events: active and paused ones."""
        ...

    async def save_subscription(self, subscription: Subscription) -> None:
        """Overwrite a subscription's fields, except ``failing_since`` (see note_endpoint_*)."""
        ...

    async def delete_subscription(self, subscription_id: str) -> None:
        """Delete a subscription with its deliveries and attempts."""
        ...

    async def note_endpoint_failure(self, subscription_id: str, at: datetime) -> datetime | None:
        """Start the failure streak at ``at`` unless one runs; return its start (None: no row)."""
        ...

    async def note_endpoint_success(self, subscription_id: str) -> None:
        """End the failure streak."""
        ...

    async def enqueue(self, deliveries: Sequence[Delivery]) -> list[Delivery]:
        """Durably store new deliveries in one transaction, numbering them (``seq``) in order.

        Idempotent: a delivery whose (subscription, event id, generation) is already stored is
        skipped. Returns the deliveries actually added, with their ``seq``.
        """
        ...

    async def write_batch(
        self,
        new: Sequence[Delivery],
        attempts: Sequence[tuple[Attempt, Delivery]] = (),
    ) -> list[Delivery]:
        """One transaction: ``enqueue(new)`` and ``record_attempt`` for each pair, in order.

        The write-behind path of the dispatcher: everything or nothing of the batch is
        stored. Returns the deliveries of ``new`` actually added, with their ``seq``.
        """
        ...

    async def lane_pending(self, lane: Lane) -> list[Delivery]:
        """The lane's pending deliveries in ``seq`` order."""
        ...

    async def lane_head(self, lane: Lane) -> Delivery | None:
        """The lane's pending delivery with the lowest ``seq``."""
        ...

    async def pending_lanes(self, subscription_id: str | None = None) -> list[Lane]:
        """Lanes with at least one pending delivery (of one subscription, or all)."""
        ...

    async def record_attempt(self, attempt: Attempt, delivery: Delivery) -> None:
        """Store ``attempt`` and the delivery's new state together.

        A delivery that stopped being pending meanwhile (its subscription was disabled while
        the attempt was in flight) keeps its final state; the attempt is still recorded.
        """
        ...

    async def update_delivery(self, delivery: Delivery) -> None:
        """Store a delivery's new state (status, attempts, timing, last error)."""
        ...

    async def get_delivery(self, delivery_id: str) -> Delivery | None: ...

    async def list_attempts(
        self, subscription_id: str, *, limit: int = 100, event_id: str | None = None
    ) -> list[Attempt]:
        """A subscription's attempts, newest first."""
        ...

    async def redrivable(self, subscription_id: str, *, since: datetime | None) -> list[Delivery]:
        """Latest generation of each event that is no longer pending, in ``seq`` order.

        With ``since`` None: only failed ones; otherwise delivered and failed ones accepted
        at or after ``since``.
        """
        ...

    async def fail_pending(
        self, subscription_id: str, *, error: str, at: datetime
    ) -> list[Delivery]:
        """Mark every pending delivery of the subscription failed; return them as failed."""
        ...

    async def delivery_stats(self) -> list[DeliveryStats]:
        """Every subscription's delivery counts and last attempt, ordered by id."""
        ...
