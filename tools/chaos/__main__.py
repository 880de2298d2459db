"""`python -m tools.chaos [--quick] <scenario>...` (or `all`): see `tools.chaos`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from tools.chaos import (
    auth,
    broker_kills,
    cluster,
    hostile,
    receiver_outage,
    service_kills,
    ssrf,
)
from tools.chaos.broker import OwnBroker
from tools.chaos.stack import running_system
from tools.chaos.tally import Tally, total_line

Scenario = Callable[..., Awaitable[Tally]]
SCENARIOS: dict[str, Scenario] = {
    "hostile": hostile.run,
    "ssrf": ssrf.run,
    # Before `auth`, whose subscription takes every event from then on.
    "receiver-outage": receiver_outage.run,
    "service-kills": service_kills.run,
    "broker-kills": broker_kills.run,
    "auth": auth.run,
    "cluster": cluster.run,  # last: it stops the stack
}
#: Scenarios that kill or wipe the broker: they run on the suite's own (`OwnBroker`).
NEED_OWN_BROKER = frozenset({"broker-kills", "cluster"})


@contextlib.asynccontextmanager
async def broker_for(names: list[str]) -> AsyncIterator[OwnBroker | None]:
    """The suite's own broker when a scenario needs one or no broker is configured."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and not NEED_OWN_BROKER & set(names):
        yield None
        return
    port = os.environ.get("CHAOS_KAFKA_PORT")
    data = os.environ.get("CHAOS_BROKER_DATA_DIR")
    broker = OwnBroker(port=int(port) if port else None, data_dir=Path(data) if data else None)
    await broker.start(keep_data=False)
    try:
        yield broker
    finally:
        await broker.stop()
        broker.remove()


async def main_async(names: list[str], *, quick: bool) -> list[Tally]:
    tallies: list[Tally] = []
    began = time.monotonic()

    def phase(what: str) -> None:
        print(f"  [{time.monotonic() - began:5.0f} s] {what}", file=sys.stderr, flush=True)

    async with broker_for(names) as broker:
        bootstrap = broker.bootstrap if broker else os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        phase(f"broker at {bootstrap}")
        async with running_system(bootstrap, broker=broker) as system:
            phase("stack ready")
            for name in names:
                started = time.monotonic()
                tally = await SCENARIOS[name](system, quick=quick)
                tallies.append(tally)
                for failure in tally.failures:
                    print(f"  {name}: {failure}", file=sys.stderr)
                print(tally.line(), flush=True)
                phase(f"{name} done in {time.monotonic() - started:.0f} s")
        phase("stack stopped")
    phase("broker stopped")
    return tallies


def parse(argv: list[str] | None = None) -> tuple[list[str], bool]:
    """The scenarios to run, in the table's order whatever the command line's (`cluster`
    stops the stack; none named means all), and whether `--quick`."""
    parser = argparse.ArgumentParser(prog="python -m tools.chaos", description=__doc__)
    known = [*SCENARIOS, "all"]
    # Checked below, not with `choices`: argparse checks a `nargs="*"` default list against
    # the choices as a whole, so a bare `python -m tools.chaos` was refused.
    parser.add_argument("scenarios", nargs="*", metavar="scenario", help=", ".join(known))
    parser.add_argument(
        "--quick", action="store_true", help="a third of the cases, one round of each fault (CI)"
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.scenarios) - set(known))
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; choose from {known}")
    every = not args.scenarios or "all" in args.scenarios
    return [n for n in SCENARIOS if every or n in args.scenarios], bool(args.quick)


def main(argv: list[str] | None = None) -> int:
    names, quick = parse(argv)
    tallies = asyncio.run(main_async(names, quick=quick))
    line = total_line(tallies)
    print(line, flush=True)
    return 0 if line.endswith("lost=0 duplicated=0 allowed=0 server_errors=0") else 1


if __name__ == "__main__":
    sys.exit(main())
