"""What the children's environment is built from, and building it.

The launcher owns a fixed set of variables per child (bootstrap servers, topic namespace,
log level, trace directory, host, port, store path and, within a namespace, the consumer
group); every other variable of `base_env` passes through unchanged, so an operator's
`FEED_PARTNERS` or `DATABASE_URL` still reaches the service.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from services.devstack.specs import ServiceSpec

#: Variables of the caller's shell that would point the children elsewhere.
FOREIGN_PREFIXES = ("REGISTRY_", "FEED_", "NOTIFIER_", "TAGGER_", "OTEL_", "DATABASE_URL")


def caller_env(*also: str) -> dict[str, str]:
    """This process's environment without what would point the children elsewhere
    (`FOREIGN_PREFIXES`, and any prefix in `also`): a stack's `base_env`."""
    foreign = (*FOREIGN_PREFIXES, *also)
    return {k: v for k, v in os.environ.items() if not k.startswith(foreign)}


HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class StackConfig:
    """One stack: where its state lives, which broker and ports it uses.

    `ports` maps a service name to its HTTP port (missing: the service's default port).
    `overrides` maps a service name to extra variables for that child only; they win over
    everything else. `trace_dir` None leaves span export to the inherited `OTEL_*` settings.
    """

    root: Path
    state_dir: Path
    bootstrap_servers: str
    trace_dir: Path | None = None
    namespace: str = ""
    log_level: str = "INFO"
    ports: Mapping[str, int] = field(default_factory=dict)
    overrides: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    base_env: Mapping[str, str] = field(default_factory=dict)
    python: str = sys.executable

    def port(self, spec: ServiceSpec) -> int:
        return self.ports.get(spec.name, spec.default_port)

    def url(self, spec: ServiceSpec) -> str:
        return f"http://{HOST}:{self.port(spec)}"

    def log_path(self, spec: ServiceSpec) -> Path:
        return self.state_dir / "logs" / f"{spec.name}.log"

    def store_path(self, spec: ServiceSpec) -> Path:
        return self.state_dir / spec.store_file

    def spans_path(self, spec: ServiceSpec) -> Path | None:
        """Where the service's spans land as JSON lines (None without a trace directory)."""
        return self.trace_dir / f"{spec.name}.jsonl" if self.trace_dir else None


def build_env(config: StackConfig, spec: ServiceSpec) -> dict[str, str]:
    """The complete environment of the child running `spec` (see the module docstring)."""
    env = dict(config.base_env)
    env.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": config.bootstrap_servers,
            "TABRIDGE_TOPIC_NAMESPACE": config.namespace,
            "LOG_LEVEL": config.log_level,
            "PYTHONUNBUFFERED": "1",
            spec.variable("HOST"): HOST,
            spec.variable("PORT"): str(config.port(spec)),
            spec.variable(spec.store_variable): str(config.store_path(spec)),
        }
    )
    if config.trace_dir is not None:
        env["TABRIDGE_TRACE_DIR"] = str(config.trace_dir)
    if config.namespace:
        # Groups are not namespaced by the services; two environments on one cluster
        # must not share a group, or they would split each other's partitions.
        env[spec.variable(spec.group_variable)] = f"{config.namespace}.{spec.default_group}"
    env.update(config.overrides.get(spec.name, {}))
    return env
