"""The suite's own broker, which it may kill, restart and wipe.

`broker-kills` SIGKILLs it and starts it again on its data; `cluster` starts it again on
fresh storage. The suite never does either to a broker it did not start: when a selected
scenario needs to, `python -m tools.chaos` starts this one on free ports (or
`CHAOS_KAFKA_PORT`; better below 32768, outside the kernel's ephemeral range) with its data
in `CHAOS_BROKER_DATA_DIR` (default: under `var/`), and stops it at the end. Jars come from
`KAFKA_CACHE_DIR` as kafka.sh resolves them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from services.devstack import BrokerProcess

ROOT = Path(__file__).resolve().parents[2]


class OwnBroker(BrokerProcess):
    """A `BrokerProcess` in a temporary data dir under `var/` unless one is given."""

    def __init__(self, *, port: int | None = None, data_dir: Path | None = None) -> None:
        self._temporary = data_dir is None
        if data_dir is None:
            (ROOT / "var").mkdir(exist_ok=True)
            data_dir = Path(tempfile.mkdtemp(prefix="chaos-kafka-", dir=ROOT / "var"))
        # C1 only: a broker that is restarted 20 times spends its life starting up.
        jvm = os.environ.get("KAFKA_JVM_OPTS", "-XX:TieredStopAtLevel=1")
        super().__init__(data_dir, port=port, env={"KAFKA_JVM_OPTS": jvm})

    def remove(self) -> None:
        if self._temporary and not os.environ.get("CHAOS_KEEP_STATE"):
            shutil.rmtree(self.data_dir, ignore_errors=True)
