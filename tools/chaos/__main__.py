"""`python -m tools.chaos [--quick] <scenario>...` (or `all`): see `tools.chaos`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable

from tools.chaos import auth, cluster, hostile, ssrf
from tools.chaos.stack import running_system
from tools.chaos.tally import Tally, total_line

Scenario = Callable[..., Awaitable[Tally]]
SCENARIOS: dict[str, Scenario] = {
    "hostile": hostile.run,
    "ssrf": ssrf.run,
    "auth": auth.run,
    "cluster": cluster.run,  # last: it stops the stack
}


async def main_async(names: list[str], *, quick: bool, bootstrap: str) -> list[Tally]:
    tallies: list[Tally] = []
    async with running_system(bootstrap) as system:
        for name in names:
            tally = await SCENARIOS[name](system, quick=quick)
            tallies.append(tally)
            for failure in tally.failures:
                print(f"  {name}: {failure}", file=sys.stderr)
            print(tally.line(), flush=True)
    return tallies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.chaos", description=__doc__)
    parser.add_argument(
        "scenarios", nargs="*", default=["all"], choices=[*SCENARIOS, "all"], metavar="scenario"
    )
    parser.add_argument("--quick", action="store_true", help="a third of the cases (CI)")
    args = parser.parse_args(argv)
    # In the table's order whatever the command line's: `cluster` stops the stack.
    names = [n for n in SCENARIOS if "all" in args.scenarios or n in args.scenarios]
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    tallies = asyncio.run(main_async(names, quick=args.quick, bootstrap=bootstrap))
    line = total_line(tallies)
    print(line, flush=True)
    return 0 if line.endswith("lost=0 duplicated=0 allowed=0 server_errors=0") else 1


if __name__ == "__main__":
    sys.exit(main())
