"""The flow the reliability scenarios measure: registry API → topic → notifier → webhook.

A scenario opens a `Flow`: a `CountingReceiver` of its own on a port the notifier allows,
subscribed (partner B) to the activity changes of the scenario's own tag, so scenarios do
not see each other's changes. It drives a `ChangeLoad`, does its faults, waits until every
acknowledged change was delivered (or its deadline passed), then `account()` compares:

- acknowledged changes (2xx answers) with the records on the topic (`on_topic`,
  `missing_on_topic`, `topic_duplicates`: events are de-duplicated by event id downstream,
  so they are reported, not counted against the promise) and with the webhook deliveries;
- `lost`: acknowledged and never delivered;
- `duplicated`, the effects repeated in violation: a change delivered under two webhook-ids
  (no receiver can de-duplicate that), and a webhook-id delivered again after the notifier
  had recorded its delivered outcome (the notifier's attempts API shows two `delivered`
  attempts). A repeat whose earlier outcome was never recorded (the notifier was killed
  between the 2xx and its write) is at-least-once as promised: `repeats_unrecorded`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from tools.chaos.changes import ChangeLoad
from tools.chaos.receiver import CountingReceiver
from tools.chaos.stack import ADMIN_KEY, Partner, System
from tools.chaos.tally import Tally
from tools.chaos.topic import read_changes

CHANGE_TYPES = [
    "org.wipo.tabridge.activity.registered.v1",
    "org.wipo.tabridge.activity.updated.v1",
    "org.wipo.tabridge.activity.withdrawn.v1",
]


@dataclass
class Flow:
    system: System
    tally: Tally
    tag: str
    partner: Partner
    receiver: CountingReceiver
    subscription: str

    @property
    def attempts_url(self) -> str:
        return self.system.url("notifier", f"/v1/subscriptions/{self.subscription}/attempts")

    def load(self, total: int, *, concurrency: int = 48) -> ChangeLoad:
        return ChangeLoad(
            http=self.system.http,
            registry=self.system.url("registry"),
            key=ADMIN_KEY,
            tag=self.tag,
            total=total,
            tally=self.tally,
            on_ack=self.receiver.expect,
            concurrency=concurrency,
        )

    @contextlib.asynccontextmanager
    async def driving(self, load: ChangeLoad) -> AsyncIterator[asyncio.Task[None]]:
        """`load` runs in a task while the scenario does its faults; stopped on the way out."""
        task = asyncio.create_task(load.run(), name=f"{self.tally.scenario} load")
        try:
            yield task
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def finish(self, load: ChangeLoad, *, within: float) -> float:
        """Wait for the last deliveries (`within` s), account the flow, report crashed
        services, close the subscription; the seconds the last deliveries took."""
        catch_up = await self.delivered_all(within=within)
        await self.account(load)
        for name in self.system.crashed():
            self.tally.fail("server_errors", f"{name} crashed")
        await self.close()
        return catch_up

    async def delivered_all(self, within: float) -> float:
        """Wait until every acknowledged change was delivered; the seconds it took."""
        started = time.monotonic()
        receiver = self.receiver
        await receiver.wait_for(lambda: not receiver.pending, within=within)
        return time.monotonic() - started

    async def account(self, load: ChangeLoad) -> None:
        tally, receiver = self.tally, self.receiver
        acknowledged = load.acknowledged
        tally.cases = len(acknowledged)
        on_topic = await read_changes(
            self.system.config.bootstrap_servers, self.system.config.namespace, self.tag
        )
        for change in sorted(acknowledged):
            if change not in receiver.ids_of:
                tally.fail("lost", f"{change} acknowledged, never delivered")
        for change, ids in receiver.ids_of.items():
            if len(ids) > 1:
                for _ in range(len(ids) - 1):
                    tally.fail("duplicated", f"{change} delivered as {sorted(ids)}")
        unrecorded = 0
        for webhook_id, arrivals in receiver.arrivals.items():
            if arrivals < 2:
                continue
            recorded = await self._recorded_deliveries(webhook_id)
            for _ in range(max(0, recorded - 1)):
                tally.fail("duplicated", f"{webhook_id} sent again after its outcome was recorded")
            unrecorded += arrivals - max(recorded, 1)
        extra = tally.extra
        extra["acknowledged"] = len(acknowledged)
        extra["on_topic"] = sum(1 for c in acknowledged if c in on_topic.ids_of)
        extra["missing_on_topic"] = len(acknowledged) - extra["on_topic"]
        extra["topic_duplicates"] = on_topic.duplicates
        extra["delivered"] = sum(1 for c in acknowledged if c in receiver.ids_of)
        extra["unacknowledged_delivered"] = sum(1 for c in receiver.ids_of if c not in acknowledged)
        extra["repeats"] = receiver.repeats
        extra["repeats_unrecorded"] = unrecorded
        extra["order_violations"] = receiver.order_violations
        extra["unverified"] = receiver.unverified
        extra["resent_requests"] = load.resent
        extra["applied_unanswered"] = load.applied_unanswered
        if load.refused:
            extra["refused_requests"] = load.refused

    async def _recorded_deliveries(self, webhook_id: str) -> int:
        """How many `delivered` attempts of `webhook_id` the notifier recorded."""
        for _ in range(50):  # the last outcome may still be in the notifier's write-behind
            items = await self._attempts(webhook_id)
            delivered = sum(1 for a in items if a.get("outcome") == "delivered")
            if delivered:
                return delivered
            await asyncio.sleep(0.2)
        return 0

    async def _attempts(self, webhook_id: str) -> list[dict[str, Any]]:
        async with self.system.http.get(
            self.attempts_url,
            params={"webhook_id": webhook_id, "limit": "500"},
            headers=self.partner.auth,
        ) as resp:
            if resp.status != 200:
                return []
            items: list[dict[str, Any]] = (await resp.json())["items"]
            return items

    async def close(self) -> None:
        async with self.system.http.delete(
            self.system.url("notifier", f"/v1/subscriptions/{self.subscription}"),
            headers=self.partner.auth,
        ):
            pass
        await self.receiver.down()


async def open_flow(system: System, scenario: str, tally: Tally) -> Flow:
    receiver = CountingReceiver(system.spare_ports[scenario])
    await receiver.up()
    partner = system.partners[1]
    tag = f"CHAOS-{scenario}-{system.config.namespace}"
    async with system.http.post(
        system.url("notifier", "/v1/subscriptions"),
        json={"url": receiver.url, "event_types": CHANGE_TYPES, "filters": {"partners": [tag]}},
        headers=partner.auth,
    ) as resp:
        document = await resp.json()
        if resp.status != 201:
            raise RuntimeError(f"subscription refused: {resp.status} {document}")
    receiver.trust(document["secret"])
    return Flow(system, tally, tag, partner, receiver, document["id"])
