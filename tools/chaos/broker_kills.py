"""Scenario `broker-kills`: the broker SIGKILLed 20 times (restarted on its data) while
100,000 changes go through the registry API.

Needs the suite's own broker (`tools.chaos.broker`; without one it reports `skipped=1`).
The kills are spread over the load: the n-th when n/(kills+1) of the changes have been
acknowledged; each is followed at once by a restart on the same storage (`restart_s`: the
median time until the broker answered again; `acknowledged_while_down`: changes the
registry answered meanwhile, from its outbox). Then the flow is accounted
(`tools.chaos.flow`): acknowledged vs on the topic vs delivered; `catch_up_s` is how long
the last deliveries took after the load ended.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from tools.chaos.flow import open_flow
from tools.chaos.settings import figure
from tools.chaos.stack import System
from tools.chaos.tally import Tally


async def run(system: System, *, quick: bool = False) -> Tally:
    tally = Tally("broker-kills")
    broker = system.broker
    if broker is None:
        tally.extra["skipped"] = 1
        return tally
    kills = int(figure("CHAOS_BROKER_KILLS", 20, 1, is_quick=quick))
    total = int(figure("CHAOS_CHANGES", 100_000, 400, is_quick=quick))
    flow = await open_flow(system, "broker-kills", tally)
    load = flow.load(total)
    started = time.monotonic()
    restarts: list[float] = []
    while_down = 0
    driving = asyncio.create_task(load.run(), name="broker-kills load")
    try:
        for n in range(1, kills + 1):
            await load.wait_acknowledged(total * n // (kills + 1))
            if driving.done():
                break
            await broker.kill()
            began, acked = time.monotonic(), len(load.acknowledged)
            await broker.start(keep_data=True)
            restarts.append(time.monotonic() - began)
            while_down += len(load.acknowledged) - acked
        await driving
    finally:
        driving.cancel()
        await asyncio.gather(driving, return_exceptions=True)
    load_s = time.monotonic() - started
    catch_up = await flow.delivered_all(within=max(180.0, total / 100))
    await flow.account(load)
    # Fewer than asked when the load ended first (it keeps going while the broker restarts).
    tally.extra["kills_requested"] = kills
    tally.extra["kills"] = broker.kills
    tally.extra["restarts"] = len(restarts)
    tally.extra["restart_s"] = round(statistics.median(restarts), 1) if restarts else 0
    tally.extra["acknowledged_while_down"] = while_down
    tally.extra["load_s"] = round(load_s)
    tally.extra["changes_per_s"] = round(len(load.acknowledged) / load_s)
    tally.extra["catch_up_s"] = round(catch_up, 1)
    for name in system.crashed():
        tally.fail("server_errors", f"{name} crashed")
    await flow.close()
    return tally
