"""The system under test: the four services as processes, two partners, their keys.

Started with the launcher `make run` uses (`services.devstack`), on the broker named by
`KAFKA_BOOTSTRAP_SERVERS`, on free ports, with a state directory of its own and a webhook
receiver the notifier may call. Keys: a registry admin, a read-only and a revoked registry
key, an operator key, and per partner one key (partner-feed and notifier).

The launcher restarts a crashed service (`RESTART`: a short backoff, so that 20 kills of a
service fit the suite's time), and the notifier retries on the Svix schedule compressed by
`CHAOS_RETRY_SCALE` (default 0.02: 5 min become 6 s). `spare_ports` are loopback ports the
notifier also allows, for the scenarios' own receivers; `broker` is set when the suite runs
on a broker of its own that scenarios may kill (`tools.chaos.broker`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import signal
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from services.devstack import (
    SERVICES,
    RestartPolicy,
    Stack,
    StackConfig,
    WebhookReceiver,
    apply_topics,
    build_env,
    caller_env,
    free_port,
)
from services.devstack.commands import run_command
from services.devstack.ports import free_ports
from services.devstack.readiness import wait_ready
from tools.chaos.broker import OwnBroker

ROOT = Path(__file__).resolve().parents[2]
OPERATOR_KEY = "chaos-operator-key-0123456789abcdef"
ADMIN_KEY = "chaos-admin-key-0123456789abcdef"
READER_KEY = "chaos-reader-key-0123456789abcdef"
REVOKED_KEY = "chaos-revoked-key-0123456789abcdef"
RESTART = RestartPolicy(initial=0.2, factor=2, cap=3, reset_after=5)
#: Scenarios with a receiver of their own (its port is allowed at the notifier).
OWN_RECEIVERS = ("broker-kills", "service-kills", "receiver-outage")


@dataclass(frozen=True, slots=True)
class Partner:
    id: str
    format: str

    @property
    def key(self) -> str:
        return f"chaos-{self.id}-key-0123456789abcdef"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


PARTNERS = (Partner("unctad", "iati"), Partner("eac", "tfm-json"))


@dataclass
class System:
    stack: Stack
    receiver: WebhookReceiver
    config: StackConfig
    http: aiohttp.ClientSession
    partners: tuple[Partner, ...] = PARTNERS
    notes: list[str] = field(default_factory=list)
    spare_ports: dict[str, int] = field(default_factory=dict)
    kills: Counter[str] = field(default_factory=Counter)
    broker: OwnBroker | None = None
    retry_scale: float = 1.0

    def url(self, service: str, path: str = "") -> str:
        return self.stack.url(service) + path

    def crashed(self) -> list[str]:
        """Services that exited without being killed by a scenario (a crash), whether or
        not the launcher has restarted them since."""
        found = []
        for spec in self.stack.specs:
            restarts = len(self.stack.supervisor(spec.name).restarts)
            down = self.stack.child(spec.name).returncode is not None
            if restarts + int(down) > self.kills[spec.name]:
                found.append(spec.name)
        return found

    async def restarted(self, service: str, *, within: float = 120.0) -> float:
        """Wait until the launcher has restarted the killed `service` and it is ready again;
        the seconds that took."""
        started = time.monotonic()
        supervisor = self.stack.supervisor(service)
        await asyncio.wait_for(supervisor.wait_restarts(self.kills[service]), within)
        await wait_ready(self.http, self.url(service), self.stack.child(service), within=within)
        return time.monotonic() - started

    def kill(self, service: str) -> None:
        """SIGKILL `service` (a fault of the scenario's, not a crash); the launcher restarts it."""
        pid = self.stack.child(service).pid
        if pid is None or self.stack.child(service).returncode is not None:
            raise RuntimeError(f"{service} is not running")
        os.kill(pid, signal.SIGKILL)
        self.kills[service] += 1


def _sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _overrides(
    receiver: WebhookReceiver, spare: dict[str, int], retry_scale: float
) -> dict[str, dict[str, str]]:
    feed_partners = [
        {"id": p.id, "name": p.id.upper(), "format": p.format, "api_key_sha256": [_sha(p.key)]}
        for p in PARTNERS
    ]
    notifier_partners = {p.id: {"name": p.id.upper(), "keys": [p.key]} for p in PARTNERS}
    return {
        "registry": {"REGISTRY_RELAY_POLL_SECONDS": "0.2"},
        "partner-feed": {"FEED_PARTNERS": json.dumps(feed_partners)},
        "notifier": {
            "NOTIFIER_PARTNER_KEYS": json.dumps(notifier_partners),
            "NOTIFIER_ALLOWLIST": ",".join(
                f"{receiver.host}:{port}" for port in (receiver.port, *spare.values())
            ),
            "NOTIFIER_RETRY_SCALE": str(retry_scale),
            "NOTIFIER_RETRY_JITTER": "0",
        },
    }


async def _registry_cli(config: StackConfig, stack: Stack, *args: str) -> None:
    env = build_env(config, stack.spec("registry"))
    finished = await run_command(
        [config.python, "-m", "services.registry.cli", *args], env=env, cwd=config.root
    )
    if finished.status != 0:
        raise RuntimeError(f"registry cli {args[:2]} failed: {finished.output}")


@asynccontextmanager
async def running_system(
    bootstrap: str, *, state_dir: Path | None = None, broker: OwnBroker | None = None
) -> AsyncIterator[System]:
    """The started system; stopped (and its exit statuses checked by the caller) after."""
    receiver = WebhookReceiver()
    spare = dict(zip(OWN_RECEIVERS, free_ports(len(OWN_RECEIVERS)), strict=True))
    retry_scale = float(os.environ.get("CHAOS_RETRY_SCALE", "0.02"))
    await receiver.start()
    (ROOT / "var").mkdir(exist_ok=True)
    state = state_dir or Path(tempfile.mkdtemp(prefix="chaos-", dir=ROOT / "var"))
    base_env = caller_env()
    base_env.update(
        {
            "TABRIDGE_OPERATOR_KEYS": OPERATOR_KEY,
            "TABRIDGE_HTTP_HEADER_TIMEOUT": "3",
            "TABRIDGE_HTTP_BODY_TIMEOUT": "2",
        }
    )
    config = StackConfig(
        root=ROOT,
        state_dir=state,
        bootstrap_servers=bootstrap,
        namespace=f"chaos{os.getpid()}",
        log_level="WARNING",
        ports={spec.name: free_port() for spec in SERVICES},
        overrides=_overrides(receiver, spare, retry_scale),
        base_env=base_env,
    )
    stack = Stack(config, restart=RESTART)
    await _registry_cli(
        config,
        stack,
        "keys",
        "create",
        "chaos-admin",
        "--scopes",
        "read,write,admin",
        "--key",
        ADMIN_KEY,
    )
    await _registry_cli(
        config, stack, "keys", "create", "chaos-reader", "--scopes", "read", "--key", READER_KEY
    )
    await _registry_cli(
        config,
        stack,
        "keys",
        "create",
        "chaos-revoked",
        "--scopes",
        "read,write,admin",
        "--key",
        REVOKED_KEY,
    )
    await _registry_cli(config, stack, "keys", "revoke", "chaos-revoked")
    await apply_topics(config)
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
    try:
        await stack.start(ready_timeout=120)
        yield System(
            stack,
            receiver,
            config,
            http,
            spare_ports=spare,
            broker=broker,
            retry_scale=retry_scale,
        )
    finally:
        await http.close()
        statuses = await stack.stop(deadline=60)
        await receiver.stop()
        unclean = {name: code for name, code in statuses.items() if code != 0}
        if unclean:
            raise RuntimeError(f"services did not stop cleanly: {unclean} (logs: {state})")
        if state_dir is None and not os.environ.get("CHAOS_KEEP_STATE"):
            shutil.rmtree(state, ignore_errors=True)
