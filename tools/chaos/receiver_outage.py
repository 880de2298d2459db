"""Scenario `receiver-outage`: a subscribed receiver down for 10 minutes, then back.

The notifier retries on its schedule (Svix's: immediately, 5 s, 5 min, 30 min, ...)
compressed by `NOTIFIER_RETRY_SCALE` (the suite sets `CHAOS_RETRY_SCALE`, 0.02), and the
outage is compressed by the same factor, so it covers the same attempts a real 10-minute
outage would. Chains of changes (create, two updates, a withdrawal) are acknowledged by
the registry before, during and after the outage. Figures: the share delivered in the end
(`delivered_pct`), per-activity order of first arrivals (`order_violations`), and
`catch_up_s`, from the receiver's return until every change acknowledged before it had
arrived (`catch_up_schedule_s`: the same on the uncompressed schedule).
"""

from __future__ import annotations

import asyncio
import time

from tools.chaos.flow import open_flow
from tools.chaos.settings import figure
from tools.chaos.stack import System
from tools.chaos.tally import Tally


async def run(system: System, *, quick: bool = False) -> Tally:
    tally = Tally("receiver-outage")
    outage = figure("CHAOS_OUTAGE_SECONDS", 600, 120, is_quick=quick) * system.retry_scale
    total = int(figure("CHAOS_OUTAGE_CHANGES", 2_000, 200, is_quick=quick))
    flow = await open_flow(system, "receiver-outage", tally)
    receiver = flow.receiver
    load = flow.load(total, concurrency=16)
    async with flow.driving(load) as driving:
        await load.wait_acknowledged(total // 5)
        await receiver.down()
        went_down = time.monotonic()
        acked_before_down = len(load.acknowledged)
        await asyncio.sleep(outage)  # the fault's duration, during the load
        owed = set(load.acknowledged)
        await receiver.up()
        back = time.monotonic()
        tally.extra["outage_s"] = round(back - went_down, 1)
        tally.extra["acknowledged_during_outage"] = len(owed) - acked_before_down
        # The longest wait a lane can be in when the receiver returns: the 4th delay.
        within = max(60.0, 3 * 1800 * system.retry_scale + 30)
        await receiver.wait_for(lambda: all(c in receiver.ids_of for c in owed), within=within)
        catch_up = time.monotonic() - back
        await driving
    await flow.finish(load, within=within)
    acknowledged = tally.extra["acknowledged"]
    tally.extra["delivered_pct"] = (
        round(100 * tally.extra["delivered"] / acknowledged) if acknowledged else 0
    )
    tally.extra["catch_up_s"] = round(catch_up, 1)
    tally.extra["catch_up_schedule_s"] = (
        round(catch_up / system.retry_scale) if system.retry_scale else 0
    )
    return tally
