"""Which state a local operator command opens: the one `make run` keeps, unless told.

`make run` keeps every store under `var/run/` (`TABRIDGE_RUN_DIR`). The operator commands
that open a service's store directly (`services.registry.cli`, `services.sdg_tagger.replay`)
take `--var DIR` and otherwise open the same place, so a key created as the README says is
a key of the running stack. The service's own variable (`REGISTRY_SQLITE_PATH`, ...) still
wins over the default, an explicit `--var` over both; the command says on stderr which
store it opened.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["RUN_DIR_DEFAULT", "store_path"]

RUN_DIR_DEFAULT = "var/run"


def store_path(
    file_name: str,
    *,
    variable: str,
    var: str | None,
    env: Mapping[str, str] | None = None,
) -> str:
    """The store to open: `<var>/<file_name>` when `--var` was given, else `$variable`,
    else `<$TABRIDGE_RUN_DIR or var/run>/<file_name>`."""
    environ = os.environ if env is None else env
    if var is not None:
        return str(Path(var) / file_name)
    if environ.get(variable):
        return environ[variable]
    return str(Path(environ.get("TABRIDGE_RUN_DIR") or RUN_DIR_DEFAULT) / file_name)
