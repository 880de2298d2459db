"""A broker whose process the caller owns: started, stopped, SIGKILLed, restarted on its
data or wiped (deploy/kafka/kafka.sh on its own ports and data dir).

The reliability suite (`tools.chaos`) and the outage tests use it; `make run` uses
`ensure_broker`, which leaves a broker it did not start alone. Its default ports lie below
32768, outside the kernel's ephemeral range, so no client's outgoing connection can hold
the port while the broker is down; a start that still finds it taken is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
from collections.abc import Mapping
from pathlib import Path

from services.devstack.errors import StackError
from services.devstack.ports import answers, free_ports

KAFKA_SH = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "kafka.sh"

#: A SIGKILLed broker registers again only once its old registration expired (Kafka's
#: default 9 s); broker and controller share the process here, so 2 s is safe.
FAST_RESTART: Mapping[str, str] = {
    "KAFKA_BROKER_SESSION_TIMEOUT_MS": "2000",
    "KAFKA_BROKER_HEARTBEAT_INTERVAL_MS": "500",
}


class BrokerProcess:
    """A single-node KRaft broker on `port` (its controller on another free port)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        start_timeout: float = 300.0,
    ) -> None:
        if port is None:
            port, controller = free_ports(2)
        else:
            [controller] = free_ports(1)
        self.port = port
        self.bootstrap = f"127.0.0.1:{port}"
        self.data_dir = data_dir
        self.kills = 0
        self._start_timeout = start_timeout
        self._env = {
            **os.environ,
            **FAST_RESTART,
            # A restart on a loaded machine (recovering its logs after SIGKILL) can take
            # longer than kafka.sh's default 90 s.
            "KAFKA_START_TIMEOUT": str(int(start_timeout)),
            **(env or {}),
            "KAFKA_PORT": str(port),
            "KAFKA_CONTROLLER_PORT": str(controller),
            "KAFKA_DATA_DIR": str(data_dir),
        }

    async def start(self, *, keep_data: bool = True) -> float:
        """Start (on its existing data unless `keep_data` is False); ready when it returns.

        Returns the seconds it took. Raises `StackError` when kafka.sh failed."""
        started = time.monotonic()
        for attempt in range(1, 6):
            await self._port_free()
            try:
                await self._script("start", keep_data=keep_data)
                break
            except StackError as exc:
                if "already in use" not in str(exc) or attempt == 5:
                    raise
                await asyncio.sleep(attempt)
        return time.monotonic() - started

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after kafka.sh's stop timeout; idempotent."""
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
        try:
            output, _ = await asyncio.wait_for(process.communicate(), self._start_timeout + 60)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise StackError(f"kafka.sh {action} did not finish") from None
        if process.returncode != 0:
            raise StackError(
                f"kafka.sh {action} failed ({process.returncode}): {output.decode()[-2000:]}"
            )

    async def _port_free(self, within: float = 60.0) -> None:
        """Until nothing accepts on the port (a killed broker has let go of it)."""
        deadline = time.monotonic() + within
        while await answers("127.0.0.1", self.port, within=0.5):
            if time.monotonic() > deadline:
                raise StackError(f"port {self.port} still in use {within:.0f} s after a stop")
            await asyncio.sleep(0.2)
