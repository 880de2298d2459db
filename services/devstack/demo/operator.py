"""The operator CLI's commands (`services/cli.py`, `ta-bridge`) that show the demo's stack.

The CLI is a sibling component: when a checkout does not have it, nothing is suggested.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from services.devstack.demo.keys import DemoKeys
from services.devstack.stack import Stack

#: Where `ta-bridge trace` looks when neither --dir nor TABRIDGE_TRACE_DIR says otherwise.
DEFAULT_SPANS = Path("var/run/traces")


def _has_operator_cli() -> bool:
    return importlib.util.find_spec("services.cli") is not None


def trace_commands(ids: list[str], spans_dir: Path | None, *, root: Path) -> list[str]:
    """The operator CLI's trace command for each id, when this checkout has the CLI."""
    if not _has_operator_cli() or spans_dir is None:
        return []
    default = spans_dir == root / DEFAULT_SPANS
    shown = spans_dir.relative_to(root) if spans_dir.is_relative_to(root) else spans_dir
    where = "" if default else f" --dir {shown}"
    return [f".venv/bin/ta-bridge trace {ident}{where}" for ident in ids]


def status_command(stack: Stack) -> str | None:
    """`ta-bridge status`, pointed at the ports in use (the CLI defaults to 8081-8084)."""
    if not _has_operator_cli():
        return None
    moved = [
        f"TABRIDGE_{spec.name.upper().replace('-', '_')}_URL={stack.url(spec.name)}"
        for spec in stack.specs
        if stack.config.port(spec) != spec.default_port
    ]
    key = (
        []
        if "TABRIDGE_OPERATOR_KEYS" in stack.config.base_env
        and stack.config.base_env["TABRIDGE_OPERATOR_KEYS"] != DemoKeys().operator
        else [f"TABRIDGE_OPERATOR_KEY={DemoKeys().operator}"]
    )
    return " ".join([*moved, *key, ".venv/bin/ta-bridge status"])
