"""The system under test: the four services as processes, two partners, their keys.

Started with the launcher `make run` uses (`services.devstack`), on the broker named by
`KAFKA_BOOTSTRAP_SERVERS`, on free ports, with a state directory of its own and a webhook
receiver the notifier may call. Keys: a registry admin, a read-only and a revoked registry
key, an operator key, and per partner one key (partner-feed and notifier).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from services.devstack import (
    SERVICES,
    Stack,
    StackConfig,
    WebhookReceiver,
    apply_topics,
    build_env,
    caller_env,
    free_port,
)
from services.devstack.commands import run_command

ROOT = Path(__file__).resolve().parents[2]
OPERATOR_KEY = "chaos-operator-key-0123456789abcdef"
ADMIN_KEY = "chaos-admin-key-0123456789abcdef"
READER_KEY = "chaos-reader-key-0123456789abcdef"
REVOKED_KEY = "chaos-revoked-key-0123456789abcdef"


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

    def url(self, service: str, path: str = "") -> str:
        return self.stack.url(service) + path

    def crashed(self) -> list[str]:
        """Services whose process has exited (a crash: nothing stopped them)."""
        return [
            spec.name
            for spec in self.stack.specs
            if self.stack.child(spec.name).returncode is not None
        ]


def _sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _overrides(receiver: WebhookReceiver) -> dict[str, dict[str, str]]:
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
            "NOTIFIER_ALLOWLIST": f"{receiver.host}:{receiver.port}",
            "NOTIFIER_RETRY_DELAYS": "0,0.2,0.5,1",
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
async def running_system(bootstrap: str, *, state_dir: Path | None = None) -> AsyncIterator[System]:
    """The started system; stopped (and its exit statuses checked by the caller) after."""
    receiver = WebhookReceiver()
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
        overrides=_overrides(receiver),
        base_env=base_env,
    )
    stack = Stack(config)
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
        yield System(stack, receiver, config, http)
    finally:
        await http.close()
        statuses = await stack.stop(deadline=60)
        await receiver.stop()
        unclean = {name: code for name, code in statuses.items() if code != 0}
        if unclean:
            raise RuntimeError(f"services did not stop cleanly: {unclean} (logs: {state})")
        if state_dir is None and not os.environ.get("CHAOS_KEEP_STATE"):
            shutil.rmtree(state, ignore_errors=True)
