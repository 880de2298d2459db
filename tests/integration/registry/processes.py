"""Real processes for the registry's recovery tests: the registry itself, and a broker of
the test's own that it may stop and restart (the shared broker is never touched).

Both are children of the test: they are stopped by their pid, and every wait has a
deadline.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from services.devstack import BrokerProcess
from services.devstack.ports import free_ports
from services.registry.db.api_keys import ApiKeyTable
from services.registry.db.store import REGISTRY_STORE
from shared.db import SqliteDatabase, migrate
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[3]
# Variables a developer's shell may carry that would point the child somewhere else.
_NOT_INHERITED = ("DATABASE_URL", "OTEL_EXPORTER_OTLP_ENDPOINT", "TABRIDGE_TRACE_DIR")


class DedicatedBroker(BrokerProcess):
    """A single-node Kafka of the test's own. `stop()` is a broker outage;
    `start(keep_data=True)` restarts it on the same log dirs, so what was written before the
    outage is still there."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir, env={"KAFKA_HEAP_OPTS": "-Xms128m -Xmx384m"}, start_timeout=120)


@dataclass
class RegistryProcess:
    """`python -m services.registry` on its own port, SQLite file and topic namespace."""

    db_path: Path
    bootstrap: str
    namespace: str
    log_path: Path
    api_key: str = "tbk_recovery-test-writer"
    relay_batch_size: int = 500

    def __post_init__(self) -> None:
        [self.port] = free_ports(1)
        self.base = f"http://127.0.0.1:{self.port}"
        self._process: asyncio.subprocess.Process | None = None

    async def provision(self) -> None:
        """Create the store and the test's API key before the first start."""
        db = await SqliteDatabase.open(self.db_path)
        try:
            await migrate(db, REGISTRY_STORE)
            await ApiKeyTable(db).create("writer", frozenset({"write"}), key=self.api_key)
        finally:
            await db.close()

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
        env.update(
            {
                "REGISTRY_HOST": "127.0.0.1",
                "REGISTRY_PORT": str(self.port),
                "REGISTRY_SQLITE_PATH": str(self.db_path),
                "REGISTRY_RELAY_BATCH_SIZE": str(self.relay_batch_size),
                "REGISTRY_RELAY_POLL_SECONDS": "0.2",
                "REGISTRY_CONSUMER_GROUP": f"registry-{self.namespace}",
                "TABRIDGE_TOPIC_NAMESPACE": self.namespace,
                "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
                "LOG_LEVEL": "WARNING",
            }
        )
        return env

    async def start(self, http: aiohttp.ClientSession) -> None:
        """Start the process and return once it answers `/healthz`."""
        with self.log_path.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "services.registry",
                cwd=ROOT,
                env=self._env(),
                stdout=log,
                stderr=log,
            )

        async def answering() -> bool:
            if self._process is not None and self._process.returncode is not None:
                raise AssertionError(f"registry exited at start-up:\n{self.log()}")
            try:
                async with http.get(f"{self.base}/healthz") as resp:
                    return resp.status == 200
            except aiohttp.ClientConnectionError:
                return False

        await eventually(answering, timeout=60, interval=0.1, message="registry answers")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    async def kill(self) -> None:
        """SIGKILL: no drain, no flush, no cleanup — a crash."""
        assert self._process is not None
        self._process.send_signal(signal.SIGKILL)
        code = await asyncio.wait_for(self._process.wait(), 30)
        assert code == -signal.SIGKILL

    async def terminate(self) -> int:
        """SIGTERM, as an orchestrator stops a pod; returns the exit code."""
        assert self._process is not None
        self._process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self._process.wait(), 60)

    async def ensure_stopped(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.kill()
            await asyncio.wait_for(self._process.wait(), 30)

    async def call(
        self, http: aiohttp.ClientSession, method: str, path: str, **kwargs: Any
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.api_key}", **kwargs.pop("headers", {})}
        async with http.request(method, self.base + path, headers=headers, **kwargs) as resp:
            body = await resp.json(content_type=None)
            return resp.status, body
