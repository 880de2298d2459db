"""Scenario `broker-kills`: the broker SIGKILLed 20 times (restarted on its data) while
100,000 changes go through the registry API.

Needs the suite's own broker (`tools.chaos.broker`; without one it reports `skipped=1`).
The kills are spread over the load: the n-th when n/(kills+1) of the changes have been
acknowledged (those left when the load ended first fall while its backlog is delivered:
`kills_after_load`); each is followed at once by a restart on the same storage (`restart_s`: the
median time until the broker answered again; `acknowledged_while_down`: changes the
registry answered meanwhile, from its outbox). Then the flow is accounted
(`tools.chaos.flow`): acknowledged vs on the topic vs delivered; `catch_up_s` is how long
the last deliveries took after the load ended.
"""

from __future__ import annotations

import statistics
import time

from tools.chaos.flow import open_flow
from tools.chaos.receiver import CountingReceiver
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
    after_load = 0
    receiver = flow.receiver
    async with flow.driving(load) as driving:
        for n in range(1, kills + 1):
            await load.wait_acknowledged(total * n // (kills + 1))
            if driving.done():
                # The registry answers from its outbox while the broker is down, so the load
                # can end first; the rest of the kills fall while the backlog is delivered.
                after_load += 1
                await _some_delivered(receiver)
            await broker.kill()
            acked = len(load.acknowledged)
            restarts.append(await broker.start(keep_data=True))
            while_down += len(load.acknowledged) - acked
        await driving
    load_s = time.monotonic() - started
    catch_up = await flow.finish(load, within=max(180.0, total / 100))
    tally.extra["kills"] = broker.kills
    tally.extra["kills_after_load"] = after_load
    tally.extra["restarts"] = len(restarts)
    tally.extra["restart_s"] = round(statistics.median(restarts), 1) if restarts else 0
    tally.extra["acknowledged_while_down"] = while_down
    tally.extra["load_s"] = round(load_s)
    tally.extra["changes_per_s"] = round(len(load.acknowledged) / load_s)
    tally.extra["catch_up_s"] = round(catch_up, 1)
    return tally


async def _some_delivered(receiver: CountingReceiver) -> None:
    """Until one more change was delivered, or none is owed, or 10 s passed."""
    delivered = len(receiver.ids_of)

    def moved() -> bool:
        return len(receiver.ids_of) > delivered or not receiver.pending

    await receiver.wait_for(moved, within=10.0)
