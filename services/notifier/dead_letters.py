"""Where failed deliveries and disabled subscriptions are reported: Kafka.

A delivery whose schedule is exhausted (or whose subscription was disabled) is written to
the webhook DLQ topic with its original body (the structured CloudEvent) and `dlq.*`
headers naming the subscription, partner, webhook id, attempts and last error; then an ops
`WebhookDeliveryFailed` event is published. A subscription disabled for a 410 or a failing
window publishes `SubscriptionDisabled`. Each call returns once the broker acknowledged, and
raises otherwise: the dispatcher retries it, so a report is repeated rather than lost.
"""

from __future__ import annotations

from datetime import UTC, datetime

from shared import EventPublisher, Outgoing
from shared.events import (
    OPS_EVENTS,
    WEBHOOK_DLQ,
    SubscriptionDisabled,
    WebhookDeliveryFailed,
    namespaced,
)

from .deliveries import Delivery
from .store import NotifierStore
from .subscriptions import Subscription

#: Disable reasons that are an endpoint's fault and so an operator's concern.
_REPORTED = {"gone": "gone", "failing_window": "failing_window"}
_MAX_ERROR = 2000


class KafkaDeadLetters:
    def __init__(self, *, publisher: EventPublisher, store: NotifierStore, namespace: str) -> None:
        self._publisher = publisher
        self._store = store
        self.dlq_topic = namespaced(WEBHOOK_DLQ, namespace)
        self.ops_topic = namespaced(OPS_EVENTS, namespace)

    async def dead_letter(self, delivery: Delivery) -> None:
        """The dispatcher's dead-letter hook: DLQ record, then the ops event."""
        subscription = await self._store.get_subscription(delivery.subscription_id)
        partner = subscription.partner_id if subscription else ""
        attempts = await self._store.list_attempts(
            delivery.subscription_id, limit=1, event_id=delivery.event_id
        )
        last_status = attempts[0].status_code if attempts else None
        error = (delivery.last_error or "")[:_MAX_ERROR]
        headers = {
            "content-type": "application/cloudevents+json",
            "dlq.error.type": "WebhookDeliveryFailed",
            "dlq.error.message": error,
            "dlq.attempts": str(delivery.attempts),
            "dlq.failed_at": datetime.now(UTC).isoformat(),
            "dlq.webhook.id": delivery.event_id,
            "dlq.webhook.type": delivery.event_type,
            "dlq.webhook.delivery_id": delivery.id,
            "dlq.webhook.generation": str(delivery.generation),
            "dlq.subscription.id": delivery.subscription_id,
            "dlq.partner.id": partner,
        }
        if last_status is not None:
            headers["dlq.last_status"] = str(last_status)
        if subscription is not None:
            headers["dlq.subscription.url"] = subscription.url
        if delivery.traceparent:
            headers["traceparent"] = delivery.traceparent
        acked = await self._publisher.publish_raw(
            self.dlq_topic,
            key=delivery.subject.encode(),
            value=delivery.body,
            headers=[(k, v.encode()) for k, v in headers.items()],
        )
        await acked
        failed = WebhookDeliveryFailed(
            subscription_id=delivery.subscription_id,
            partner=partner,
            event_id=delivery.event_id,
            activity_id=delivery.subject,
            attempts=delivery.attempts,
            last_status=last_status,
            last_error=error or None,
        )
        await self._publisher.publish_all(
            [Outgoing(self.ops_topic, failed, traceparent=delivery.traceparent)]
        )

    async def subscription_disabled(self, subscription: Subscription, code: str) -> None:
        """The dispatcher's disable hook: an ops event for endpoint faults, not partner acts."""
        reason = _REPORTED.get(code)
        if reason is None:
            return
        event = SubscriptionDisabled(
            subscription_id=subscription.id, partner=subscription.partner_id, reason=reason
        )
        await self._publisher.publish_all([Outgoing(self.ops_topic, event)])
