"""The demo's API keys, and the registry admin key created with the registry's CLI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services.devstack.commands import run_command
from services.devstack.errors import StackError


@dataclass(frozen=True, slots=True)
class DemoKeys:
    """Fixed, documented keys: the demo runs on loopback only.

    `partner` is the key of every demo partner of partner-feed and the notifier (they are
    configured with its SHA-256 only: deploy/demo-data/partners/partners.json and
    deploy/demo-data/notifier-partners.json).
    """

    registry_name: str = "demo-admin"
    registry: str = "demo-admin-key"
    partner: str = "demo-partner-key"
    notifier_partner: str = "eac"
    operator: str = "demo-operator-key"
    """Every service's TABRIDGE_OPERATOR_KEYS; `ta-bridge status` sends it."""


async def ensure_registry_key(
    keys: DemoKeys, *, python: str, cwd: Path, env: Mapping[str, str]
) -> bool:
    """Create the admin key unless a key of that name is active; True if it was created.

    Runs `python -m services.registry.cli` against the registry's store (so `env` must be
    the registry's environment). Raises StackError when the CLI fails.
    """
    listing = await _cli(python, cwd, env, "keys", "list")
    for line in listing.splitlines():
        name, _, rest = line.partition("\t")
        if name == keys.registry_name and rest.endswith("active"):
            return False
    await _cli(
        python,
        cwd,
        env,
        "keys",
        "create",
        keys.registry_name,
        "--scopes",
        "read,write,admin",
        "--key",
        keys.registry,
    )
    return True


async def _cli(python: str, cwd: Path, env: Mapping[str, str], *args: str) -> str:
    finished = await run_command([python, "-m", "services.registry.cli", *args], env=env, cwd=cwd)
    if finished.status != 0:
        raise StackError(f"services.registry.cli {' '.join(args[:2])} failed: {finished.output}")
    return finished.output
