"""The state `make run` keeps between runs, and keeping it consistent.

Everything lives under one directory (`var/run/` by default): the services' SQLite stores,
their logs and spans, and, when `make run` starts the local broker itself, the broker's
data (`kafka/`, started with `KAFKA_KEEP_DATA=1` so topics, offsets and events survive a
restart). Stores and broker data therefore persist together, and `make reset` removes them
together. Should the broker's data be missing while stores remain (deleted by hand, or left
by an older checkout that formatted the broker on every start), the stores are set aside,
never paired with an empty cluster: consumer offsets, outbox marks and de-duplication
records would otherwise refer to events the cluster no longer has.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from services.devstack.specs import SERVICES

BROKER_DIR = "kafka"


def broker_data_dir(state_dir: Path) -> Path:
    return state_dir / BROKER_DIR


def local_broker_env(state_dir: Path, env: Mapping[str, str]) -> dict[str, str]:
    """deploy/kafka/kafka.sh's environment for a broker whose data lives in `state_dir`.

    An operator's own `KAFKA_DATA_DIR` or `KAFKA_KEEP_DATA` wins.
    """
    return {
        "KAFKA_DATA_DIR": str(broker_data_dir(state_dir)),
        "KAFKA_KEEP_DATA": "1",
        **env,
    }


def broker_has_data(broker_env: Mapping[str, str]) -> bool:
    """True when the local broker would start on existing storage (kafka.sh's own test)."""
    data = Path(broker_env["KAFKA_DATA_DIR"]) / "data" / "meta.properties"
    return broker_env.get("KAFKA_KEEP_DATA") == "1" and data.is_file()


def stores(state_dir: Path) -> list[Path]:
    """The services' stores present in `state_dir` (SQLite files and their journals)."""
    found: list[Path] = []
    for spec in SERVICES:
        base = state_dir / spec.store_file
        found += [p for p in (base, *base.parent.glob(base.name + "-*")) if p.exists()]
    return found


def set_aside_stores(state_dir: Path) -> Path | None:
    """Move the stores out of the way (into `state_dir/stale-<time>/`); where, or None."""
    present = stores(state_dir)
    if not present:
        return None
    target = state_dir / f"stale-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    target.mkdir(parents=True, exist_ok=True)
    for path in present:
        shutil.move(str(path), target / path.name)
    return target
