"""Scenario `receiver-outage`: a subscribed receiver down for 10 minutes, then back.

The notifier retries on its schedule (Svix's: immediately, 5 s, 5 min, 30 min, ...)
compressed by `NOTIFIER_RETRY_SCALE` (the suite sets `CHAOS_RETRY_SCALE`, 0.02), and the
outage is compressed by the same factor, so it covers the same attempts as a real
10-minute outage would. While the receiver is down, chains of changes (create, two
updates, withdrawal) are acknowledged by the registry. Figures: the share delivered after
the receiver is back (`delivered_pct`), per-activity order of first arrivals
(`order_violations`), and `catch_up_s`, from the receiver's return until the last change
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
    outage = figure("CHAOS_OUTAGE_SECONDS", 600, 120, is_quick=quick)
    total = int(figure("CHAOS_OUTAGE_CHANGES", 2_000, 200, is_quick=quick))
    scale = system.retry_scale
    flow = await open_flow(system, "receiver-outage", tally)
    await flow.receiver.down()
    went_down = time.monotonic()
    load = flow.load(total, concurrency=16)
    await load.run()
    # The outage lasts its (compressed) duration from when it began, load or not.
    await asyncio.sleep(max(0.0, outage * scale - (time.monotonic() - went_down)))
    tally.extra["outage_s"] = round(time.monotonic() - went_down, 1)
    await flow.receiver.up()
    catch_up = await flow.delivered_all(within=max(120.0, 4000 * scale))
    await flow.account(load)
    acknowledged = tally.extra["acknowledged"]
    tally.extra["delivered_pct"] = (
        round(100 * tally.extra["delivered"] / acknowledged) if acknowledged else 0
    )
    tally.extra["catch_up_s"] = round(catch_up, 1)
    tally.extra["catch_up_schedule_s"] = round(catch_up / scale) if scale else 0
    for name in system.crashed():
        tally.fail("server_errors", f"{name} crashed")
    await flow.close()
    return tally
