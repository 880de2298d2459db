"""Scenario `cluster`: the broker comes back with fresh storage (a rebuilt cluster).

Needs a broker the suite may wipe: its own (`tools.chaos.broker`), which
`python -m tools.chaos` starts when this scenario is selected. Without one it reports
`skipped=1`.

Before: activities are created and delivered. The broker is stopped, its storage removed,
and it is started empty. After: more activities are created; every one acknowledged (201)
must reach the webhook receiver exactly once (`lost`, `duplicated`), no service may report
a consumer position beyond a log end, and all four must stop cleanly within their
deadline (`stop_s` is the time the stack took to stop).
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter

from tools.chaos.cases import activity_doc
from tools.chaos.stack import ADMIN_KEY, OPERATOR_KEY, System
from tools.chaos.tally import Tally

SERVICES = ("registry", "partner-feed", "notifier", "sdg-tagger")


async def _create(system: System, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        async with system.http.post(
            system.url("registry", "/v1/activities"),
            json=activity_doc(),
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        ) as resp:
            if resp.status == 201:
                ids.append((await resp.json())["id"])
    return ids


class _Registered:
    """Registered-events delivered to the suite's receiver, by activity id (verified
    signatures only), counted incrementally: the receiver may hold the whole run's
    deliveries by now, so re-reading them all on every arrival would be quadratic."""

    def __init__(self, system: System) -> None:
        self._deliveries = system.receiver.deliveries
        self._read = 0
        self.seen: Counter[str] = Counter()

    def update(self) -> Counter[str]:
        for delivery in self._deliveries[self._read :]:
            event = delivery.event
            if delivery.verified and str(event.get("type", "")).endswith("registered.v1"):
                data = event.get("data") or {}
                self.seen[str(data.get("activity_id") or event.get("subject"))] += 1
        self._read = len(self._deliveries)
        return self.seen


async def _wait_delivered(
    system: System, registered: _Registered, ids: list[str], within: float
) -> None:
    """Until every id was delivered (checked on each arrival) or `within` passed; what is
    still missing then is counted as lost by the caller."""
    if all(registered.update()[i] for i in ids):
        return
    with contextlib.suppress(TimeoutError):
        await system.receiver.wait_for(
            lambda _: all(registered.update()[i] for i in ids), within=within
        )


async def run(system: System, *, quick: bool = False) -> Tally:
    tally = Tally("cluster")
    broker = system.broker
    if broker is None:
        tally.extra["skipped"] = 1
        return tally
    partner = system.partners[0]
    async with system.http.post(
        system.url("notifier", "/v1/subscriptions"),
        json={"url": system.receiver.url, "event_types": ["*"]},
        headers=partner.auth,
    ) as resp:
        system.receiver.trust((await resp.json())["secret"])
    count = 10 if quick else 50
    registered = _Registered(system)
    before = await _create(system, count)
    await _wait_delivered(system, registered, before, 120)
    await broker.stop()
    broker.wipe()
    await broker.start(keep_data=False)
    after = await _create(system, count)
    tally.cases = len(before) + len(after)
    await _wait_delivered(system, registered, after, 180)
    seen = registered.update()
    for activity_id in before + after:
        if seen[activity_id] == 0:
            tally.fail("lost", f"{activity_id} never delivered")
        elif seen[activity_id] > 1:
            tally.fail("duplicated", f"{activity_id} delivered {seen[activity_id]} times")
    tally.extra["acknowledged_after"] = len(after)
    tally.extra["delivered_after"] = sum(1 for i in after if seen[i])
    for service in SERVICES:
        async with system.http.get(
            system.url(service, "/v1/status"),
            headers={"Authorization": f"Bearer {OPERATOR_KEY}"},
        ) as resp:
            document = await resp.json()
        beyond = [
            p
            for g in document.get("kafka", {}).get("consumer_groups", [])
            for p in g["partitions"]
            if p.get("beyond_end")
        ]
        tally.extra["beyond_end"] += len(beyond)
    started = time.monotonic()
    statuses = await system.stack.stop(deadline=60)
    tally.extra["stop_s"] = round(time.monotonic() - started)
    for name, code in statuses.items():
        if code != 0:
            tally.fail("server_errors", f"{name} exited {code} on SIGTERM")
    return tally
