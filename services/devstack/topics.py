"""Topics brought to their definitions before the services start, with `tools.topics`.

The services also create missing topics when they start; applying the definitions first
(the `local` profile: one broker) also reconciles the configuration of topics that exist
already (retention, compaction), as a deployment would.
"""

from __future__ import annotations

import asyncio
import importlib.util
from dataclasses import dataclass

from services.devstack.commands import run_command
from services.devstack.config import StackConfig

#: Exit statuses of `python -m tools.topics apply` that leave the topics usable.
_USABLE = {0: "in sync", 3: "applied; partition increases left out"}


@dataclass(frozen=True, slots=True)
class TopicsOutcome:
    applied: bool
    summary: str


async def apply_topics(config: StackConfig, *, within: float = 30.0) -> TopicsOutcome:
    """Run `python -m tools.topics apply --profile local` for the stack's namespace.

    Never raises for the tool's failures: the services' own start-up still creates what is
    missing, so the outcome only says what happened (the tool's output when it failed).
    """
    if importlib.util.find_spec("tools.topics") is None:
        return TopicsOutcome(False, "tools.topics is not in this checkout; services create topics")
    argv = [config.python, "-m", "tools.topics", "apply", "--profile", "local"]
    argv += ["--namespace", config.namespace, "--bootstrap-servers", config.bootstrap_servers]
    argv += ["--timeout", str(within)]
    try:
        async with asyncio.timeout(within + 15):
            finished = await run_command(argv, env=config.base_env, cwd=config.root)
    except TimeoutError:
        return TopicsOutcome(False, f"tools.topics apply did not finish within {within:.0f} s")
    text, status = finished.output.strip(), finished.status
    if status in _USABLE:
        changes = [line for line in text.splitlines() if line and not line.startswith("#")]
        return TopicsOutcome(True, f"{len(changes)} created or changed; {_USABLE[status]}")
    return TopicsOutcome(False, f"tools.topics apply failed (status {status}): {text[-500:]}")
