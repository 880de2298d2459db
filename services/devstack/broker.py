"""A Kafka broker that answers: the configured one, or the local one `deploy/kafka` starts."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services.devstack.commands import run_command
from services.devstack.errors import StackError
from services.devstack.ports import answers, parse_servers

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True, slots=True)
class Broker:
    """The broker in use; `started` says whether we started it (and so must stop it)."""

    bootstrap_servers: str
    started: bool
    script: Path
    env: Mapping[str, str]

    async def stop(self) -> None:
        """Stop the broker if we started it; leave one we found running alone."""
        if self.started:
            await _script(self.script, "stop", self.env)


async def ensure_broker(bootstrap_servers: str, *, script: Path, env: Mapping[str, str]) -> Broker:
    """Use the broker at `bootstrap_servers` if one answers, else start the local one.

    The local broker (`bash <script> start`, which waits until it is ready) can only serve a
    loopback address; its port is taken from `bootstrap_servers`. `env` is the script's
    environment (`KAFKA_*` variables of deploy/kafka/kafka.sh apply).

    Raises:
        StackError: nothing answers and the address is not loopback, or the script failed.
    """
    base = dict(env)
    try:
        servers = parse_servers(bootstrap_servers)
    except ValueError as exc:
        raise StackError(f"KAFKA_BOOTSTRAP_SERVERS={bootstrap_servers!r}: {exc}") from exc
    for host, port in servers:
        if await answers(host, port):
            return Broker(bootstrap_servers, started=False, script=script, env=base)
    host, port = servers[0]
    if host not in LOOPBACK:
        raise StackError(
            f"no Kafka broker answers on {bootstrap_servers}, and a local one can only be "
            "started on 127.0.0.1; start it, or unset KAFKA_BOOTSTRAP_SERVERS"
        )
    local = {**base, "KAFKA_PORT": str(port)}
    try:
        await _script(script, "start", local)
    except BaseException:
        # Interrupted or failed half-way: a broker may be up that nobody would stop.
        with contextlib.suppress(StackError):
            await _script(script, "stop", local)
        raise
    return Broker(f"127.0.0.1:{port}", started=True, script=script, env=local)


async def _script(script: Path, command: str, env: Mapping[str, str]) -> None:
    finished = await run_command(["bash", str(script), command], env=env)
    if finished.status != 0:
        raise StackError(
            f"bash {script} {command} failed with status {finished.status}:\n"
            + finished.output[-3000:]
        )
