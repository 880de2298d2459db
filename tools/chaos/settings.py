"""The reliability scenarios' sizes: the issue's figures by default, smaller with `--quick`.

Each can be set by its variable (`CHAOS_CHANGES=20000 make chaos`), which also applies to
`--quick` runs when set.
"""

from __future__ import annotations

import os


def figure(name: str, full: float, quick: float, *, is_quick: bool) -> float:
    """`name` from the environment, else the full or the quick default."""
    value = os.environ.get(name)
    if value:
        return float(value)
    return quick if is_quick else full
