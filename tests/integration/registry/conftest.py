"""A registry on a real HTTP server on loopback, with its own store, keys and topics."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from services.registry.state import KEYS
from shared import (
    KafkaTransport,
    MemoryTransport,
    Observability,
    Transport,
    build_observability,
    configure_logging,
)
from tests.support.operator import OPERATOR_KEY


@dataclass
class Registry:
    server: TestServer
    http: aiohttp.ClientSession
    settings: RegistrySettings
    transport: Transport
    keys: dict[str, str] = field(default_factory=dict)
    exporter: InMemorySpanExporter | None = None

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def auth(self, scope: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[scope]}"}

    async def call(
        self,
        method: str,
        path: str,
        *,
        scope: str = "admin",
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> tuple[int, Any, aiohttp.ClientResponse]:
        async with self.http.request(
            method, self.url(path), headers={**self.auth(scope), **(headers or {})}, **kwargs
        ) as resp:
            text = await resp.text()
            import json

            body = json.loads(text) if text and resp.content_type.endswith("json") else text
            return resp.status, body, resp


async def start_registry(
    tmp_path: Path, transport: Transport, namespace: str, **overrides: Any
) -> tuple[Registry, Observability]:
    settings = RegistrySettings.model_validate(
        {
            "sqlite_path": str(tmp_path / "registry.db"),
            "sqlite_synchronous": "NORMAL",
            "relay_poll_seconds": 0.2,
            "consumer_group": f"registry-{namespace}",
            "TABRIDGE_TOPIC_NAMESPACE": namespace,
            "KAFKA_BOOTSTRAP_SERVERS": getattr(transport, "bootstrap_servers", "memory"),
            "TABRIDGE_OPERATOR_KEYS": OPERATOR_KEY,
            **overrides,
        }
    )
    exporter = InMemorySpanExporter()
    obs = build_observability("registry", settings, exporter=exporter)
    # Tests keep logs quiet; production logs JSON to stderr.
    obs = Observability(
        service=obs.service,
        logger=configure_logging("registry", "WARNING", stream=io.StringIO()),
        provider=obs.provider,
        tracer=obs.tracer,
        registry=obs.registry,
        metrics=obs.metrics,
    )
    app = create_app(settings, transport=transport, observability=obs)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    http = aiohttp.ClientSession()
    registry = Registry(server, http, settings, transport, exporter=exporter)
    for scope in ("read", "write", "admin"):
        registry.keys[scope] = await app[KEYS].create(f"{scope}-key", frozenset({scope}))
    return registry, obs


@pytest.fixture
async def registry(tmp_path: Path, kafka_bootstrap: str, unique: str) -> AsyncIterator[Registry]:
    reg, _ = await start_registry(tmp_path, KafkaTransport(kafka_bootstrap), f"t{unique}")
    yield reg
    await reg.http.close()
    await reg.server.close()


@pytest.fixture
async def memory_registry(tmp_path: Path, unique: str) -> AsyncIterator[Registry]:
    reg, _ = await start_registry(tmp_path, MemoryTransport(), f"t{unique}")
    yield reg
    await reg.http.close()
    await reg.server.close()
