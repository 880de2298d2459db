"""The whole system as real processes, through the launcher `make run` uses.

Each test gets its own topic namespace (and so its own consumer groups), free ports, a
temporary state directory and trace directory, and a webhook receiver on loopback that the
notifier is allowed to call.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

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
from services.devstack.demo.keys import DemoKeys, ensure_registry_key

ROOT = Path(__file__).resolve().parents[2]
PARTNER_KEY = "e2e-partner-key-0123456789"
KEYS = DemoKeys(registry_name="e2e-admin", registry="e2e-admin-key-0123456789abcdef")


@dataclass
class System:
    stack: Stack
    receiver: WebhookReceiver
    config: StackConfig
    keys: DemoKeys
    partner_key: str

    @property
    def trace_dir(self) -> Path:
        assert self.config.trace_dir is not None
        return self.config.trace_dir


@pytest.fixture
async def system(kafka_bootstrap: str, unique: str, tmp_path: Path) -> AsyncIterator[System]:
    receiver = WebhookReceiver()
    await receiver.start()
    config = StackConfig(
        root=ROOT,
        state_dir=tmp_path / "state",
        bootstrap_servers=kafka_bootstrap,
        trace_dir=tmp_path / "traces",
        namespace=f"e2e{unique}",
        log_level="INFO",
        ports={spec.name: free_port() for spec in SERVICES},
        overrides={
            "registry": {"REGISTRY_RELAY_POLL_SECONDS": "0.2"},
            "notifier": {
                "NOTIFIER_PARTNER_KEYS": json.dumps(
                    {"eac": {"name": "EAC secretariat", "keys": [PARTNER_KEY]}}
                ),
                "NOTIFIER_ALLOWLIST": f"{receiver.host}:{receiver.port}",
                "NOTIFIER_RETRY_DELAYS": "0,0.2,0.5,1",
                "NOTIFIER_RETRY_JITTER": "0",
            },
        },
        base_env=caller_env(),
    )
    stack = Stack(config)
    await ensure_registry_key(
        KEYS, python=config.python, cwd=ROOT, env=build_env(config, stack.spec("registry"))
    )
    topics = await apply_topics(config)
    assert topics.applied, topics.summary
    try:
        await stack.start(ready_timeout=60)
        yield System(stack, receiver, config, KEYS, PARTNER_KEY)
    finally:
        statuses = await stack.stop(deadline=30)
        await receiver.stop()
    assert statuses == dict.fromkeys(reversed([s.name for s in SERVICES]), 0), statuses
