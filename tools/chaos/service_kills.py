"""Scenario `service-kills`: each service SIGKILLed 20 times mid-batch, restarted by the
launcher (restart-on-crash with backoff), while changes go through the registry API.

In each round the four services are killed one after another while the load runs (the
notifier, partner-feed and the tagger in the middle of their batches, then the registry
in the middle of requests); the round ends when the launcher has restarted all four and
each answers `/readyz` (`restart_s`: the median time from a kill to ready again). A killed
registry drops requests in flight: the load sends them again. Then the flow is accounted
(`tools.chaos.flow`); `restarts` counts the launcher's restarts, which must equal `kills`.
"""

from __future__ import annotations

import statistics
import time

from tools.chaos.flow import open_flow
from tools.chaos.settings import figure
from tools.chaos.stack import System
from tools.chaos.tally import Tally

#: Kill order within a round: the registry last, since the load waits while it is down.
ORDER = ("notifier", "partner-feed", "sdg-tagger", "registry")


async def run(system: System, *, quick: bool = False) -> Tally:
    tally = Tally("service-kills")
    rounds = int(figure("CHAOS_SERVICE_KILLS", 20, 1, is_quick=quick))
    total = int(figure("CHAOS_SERVICE_CHANGES", 8_000, 400, is_quick=quick))
    flow = await open_flow(system, "service-kills", tally)
    load = flow.load(total)
    before = {name: len(system.stack.supervisor(name).restarts) for name in ORDER}
    kills_before = {name: system.kills[name] for name in ORDER}
    started = time.monotonic()
    ready_after: list[float] = []
    steps = rounds * len(ORDER)
    async with flow.driving(load) as driving:
        step = 0
        for _ in range(rounds):
            killed: list[tuple[str, float]] = []
            for name in ORDER:
                step += 1
                await load.wait_acknowledged(total * step // (steps + 1))
                system.kill(name)
                killed.append((name, time.monotonic()))
            for name, at in killed:
                await system.restarted(name)
                ready_after.append(time.monotonic() - at)
        await driving
    load_s = time.monotonic() - started
    catch_up = await flow.finish(load, within=max(180.0, total / 100))
    tally.extra["kills"] = sum(system.kills[n] - kills_before[n] for n in ORDER)
    tally.extra["restarts"] = sum(
        len(system.stack.supervisor(n).restarts) - before[n] for n in ORDER
    )
    tally.extra["restart_s"] = round(statistics.median(ready_after), 1) if ready_after else 0
    tally.extra["load_s"] = round(load_s)
    tally.extra["catch_up_s"] = round(catch_up, 1)
    return tally
