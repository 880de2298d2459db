"""A broker the suite may kill, restart and wipe: its own, from `deploy/kafka/kafka.sh`.

`broker-kills` SIGKILLs it and starts it again on its data; `cluster` starts it again on
fresh storage. The suite never does either to a broker it did not start: when a selected
scenario needs to, `python -m tools.chaos` starts this one on free ports (or
`CHAOS_KAFKA_PORT`; better below 32768, outside the kernel's ephemeral range, where no
client's outgoing connection can hold it while the broker is down) with its data in
`CHAOS_BROKER_DATA_DIR` (default: under `var/`), and stops it at the end. Jars come from
`KAFKA_CACHE_DIR` as kafka.sh resolves them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

from services.devstack.ports import answers, free_ports

ROOT = Path(__file__).resolve().parents[2]
KAFKA_SH = ROOT / "deploy" / "kafka" / "kafka.sh"


class OwnBroker:
    """A single-node KRaft broker on `port` (its controller on the next free port)."""

    def __init__(self, *, port: int | None = None, data_dir: Path | None = None) -> None:
        if port is None:
            port, controller = free_ports(2)
        else:
            [controller] = free_ports(1)
        self.port = port
        self.bootstrap = f"127.0.0.1:{port}"
        self._temporary = data_dir is None
        (ROOT / "var").mkdir(exist_ok=True)
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="chaos-kafka-", dir=ROOT / "var"))
        self._env = {
            **os.environ,
            "KAFKA_PORT": str(port),
            "KAFKA_CONTROLLER_PORT": str(controller),
            "KAFKA_DATA_DIR": str(self.data_dir),
            # A restart on a loaded machine (recovering its logs after SIGKILL) can take
            # longer than kafka.sh's default 90 s.
            "KAFKA_START_TIMEOUT": os.environ.get("KAFKA_START_TIMEOUT", "300"),
            # C1 only: a broker that is restarted 20 times spends its life starting up.
            "KAFKA_JVM_OPTS": os.environ.get("KAFKA_JVM_OPTS", "-XX:TieredStopAtLevel=1"),
        }
        self.kills = 0
        self.restart_seconds: list[float] = []

    async def _script(self, action: str, *, keep_data: bool) -> None:
        env = {**self._env, "KAFKA_KEEP_DATA": "1" if keep_data else "0"}
        process = await asyncio.create_subprocess_exec(
            "bash",
            str(KAFKA_SH),
            action,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"kafka.sh {action} failed: {output.decode()[-2000:]}")

    async def start(self, *, keep_data: bool = True) -> None:
        """Start (on its existing data unless `keep_data` is False); ready when it returns."""
        started = time.monotonic()
        for attempt in range(1, 6):
            await self._port_free()
            try:
                await self._script("start", keep_data=keep_data)
                break
            except RuntimeError as exc:
                # A client's outgoing connection may hold the port for a moment when it
                # lies in the kernel's ephemeral range (e.g. CHAOS_KAFKA_PORT=39092).
                if "Address already in use" not in str(exc) or attempt == 5:
                    raise
                await asyncio.sleep(attempt)
        self.restart_seconds.append(time.monotonic() - started)

    async def stop(self) -> None:
        await self._script("stop", keep_data=True)

    async def kill(self) -> None:
        """SIGKILL the broker's JVM (no flush, no controlled shutdown); return once it is gone."""
        pid = int((self.data_dir / "kafka.pid").read_text().strip())
        os.kill(pid, signal.SIGKILL)
        self.kills += 1
        deadline = time.monotonic() + 30
        with contextlib.suppress(ProcessLookupError):
            while time.monotonic() < deadline:  # reaped by init, not by us
                os.kill(pid, 0)
                await asyncio.sleep(0.05)

    def wipe(self) -> None:
        """Remove the stopped broker's storage (the next start formats afresh)."""
        shutil.rmtree(self.data_dir / "data", ignore_errors=True)

    def remove(self) -> None:
        if self._temporary and not os.environ.get("CHAOS_KEEP_STATE"):
            shutil.rmtree(self.data_dir, ignore_errors=True)

    async def _port_free(self, within: float = 60.0) -> None:
        """Until nothing accepts on the port (a killed broker has let go of it)."""
        deadline = time.monotonic() + within
        while await answers("127.0.0.1", self.port, within=0.5):
            if time.monotonic() > deadline:
                raise RuntimeError(f"port {self.port} still in use {within:.0f} s after a stop")
            await asyncio.sleep(0.2)
