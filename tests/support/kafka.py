"""Where the tests' Kafka broker comes from.

`KAFKA_BOOTSTRAP_SERVERS` if set; else the local broker on 127.0.0.1:19092 (started from
the Maven jars by `deploy/kafka/kafka.sh` when Java is present); else testcontainers where
a Docker engine exists. Without any of these the Kafka tests fail with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCAL = "127.0.0.1:19092"


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def find_broker() -> tuple[str, Callable[[], None]]:
    """Return (bootstrap servers, stop function) for the session's broker."""
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        return configured, lambda: None
    if _port_open("127.0.0.1", 19092):
        return LOCAL, lambda: None
    if shutil.which("java"):
        script = ROOT / "deploy" / "kafka" / "kafka.sh"
        result = subprocess.run(
            ["bash", str(script), "start"], capture_output=True, text=True, check=False
        )
        if result.returncode == 0:
            return LOCAL, lambda: _stop_local(script)
        reason = f"deploy/kafka/kafka.sh start failed:\n{result.stdout}\n{result.stderr}"
    else:
        reason = "java is not installed"
    try:
        from testcontainers.kafka import KafkaContainer
    except ImportError as exc:
        raise RuntimeError(f"no Kafka broker: {reason}; testcontainers unavailable") from exc
    try:
        container = KafkaContainer().with_kraft()
        container.start()
    except Exception as exc:
        raise RuntimeError(f"no Kafka broker: {reason}; Docker: {exc}") from exc
    return container.get_bootstrap_server(), container.stop


def _stop_local(script: Path) -> None:
    subprocess.run(["bash", str(script), "stop"], capture_output=True, check=False)
