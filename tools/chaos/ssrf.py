"""Scenario `ssrf`: webhook targets that point inside, refused at subscription and delivery.

The notifier runs here (its real application, on the stack's broker and over real HTTP)
with a resolver this scenario controls, so names can resolve to private addresses and
answers can change between subscription and delivery (rebinding). Canary listeners sit
on the addresses the targets point at and must see no connection. An allow-listed
receiver answers every delivery with a redirect into the canaries: redirects must not be
followed. Counted: a target accepted at subscription (`allowed`), any canary connection
(`allowed`).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Sequence

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from services.devstack import free_port
from services.notifier.app import create_app
from services.notifier.settings import NotifierSettings
from shared import load_settings
from tools.chaos.canary import Canary
from tools.chaos.cases import activity_doc
from tools.chaos.stack import ADMIN_KEY, System
from tools.chaos.tally import Tally

PUBLIC = "93.184.216.34"


class ChaosResolver(AbstractResolver):
    """Answers from a table the scenario edits; unknown names do not resolve."""

    def __init__(self, answers: dict[str, Sequence[str]]) -> None:
        self.answers = answers

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = self.answers.get(host.rstrip(".").lower())
        if not addresses:
            raise OSError(f"{host} does not resolve")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=0,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        return None


def _targets(c1: Canary, c2: Canary) -> list[str]:
    p1, p2 = c1.port, c2.port
    return [
        f"http://127.0.0.1:{p1}/",
        f"http://127.1:{p1}/",
        f"http://2130706433:{p1}/",
        f"http://0x7f000001:{p1}/",
        f"http://0177.0.0.1:{p1}/",
        f"http://0x7f.1:{p1}/",
        f"http://0:{p1}/",
        f"http://0.0.0.0:{p1}/",
        f"http://127.0.0.2:{p2}/",
        f"http://[::1]:{p1}/",
        f"http://[::ffff:127.0.0.1]:{p1}/",
        f"http://[::ffff:7f00:1]:{p1}/",
        f"http://[0:0:0:0:0:ffff:127.0.0.1]:{p1}/",
        f"http://[64:ff9b::7f00:1]:{p1}/",
        f"http://[2002:7f00:1::]:{p1}/",
        f"http://localhost:{p1}/",
        f"http://LOCALHOST:{p1}/",
        f"http://localhost.:{p1}/",
        "http://10.0.0.1/",
        "http://172.16.0.1/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://100.64.0.1/",
        "http://198.18.0.1/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "file:///etc/passwd",
        "ftp://example.com/x",
        f"gopher://127.0.0.1:{p1}/_x",
        f"dict://127.0.0.1:{p1}/x",
        "data:text/plain,hello",
        "javascript:alert(1)",
        f"http://user:secret@127.0.0.1:{p1}/",
        f"https://127.0.0.1:{p1}/",
        "http:///nohost",
        f"http://internal.chaos.test:{p1}/",
        "http://private.chaos.test/",
        "http://metadata.chaos.test/",
        f"http://v6local.chaos.test:{p1}/",
        f"http://mixed.chaos.test:{p1}/",
        f"http://mapped.chaos.test:{p1}/",
        "http://unresolvable.chaos.test/",
        "http://" + "a" * 3000 + ".example/",
    ]


RESOLVER_TABLE = {
    "internal.chaos.test": ["127.0.0.1"],
    "private.chaos.test": ["10.1.2.3"],
    "metadata.chaos.test": ["169.254.169.254"],
    "v6local.chaos.test": ["::1"],
    "mixed.chaos.test": [PUBLIC, "127.0.0.1"],
    "mapped.chaos.test": ["::ffff:127.0.0.1"],
    "rebind-a.chaos.test": [PUBLIC],
    "rebind-b.chaos.test": [PUBLIC],
}


class Redirector:
    """An allow-listed receiver that answers every delivery with a redirect inward."""

    def __init__(self, to: str) -> None:
        self.to = to
        self.hits = 0
        self.port = free_port()
        self._runner: web.AppRunner | None = None

    async def _answer(self, request: web.Request) -> web.Response:
        self.hits += 1
        code = int(request.match_info["code"])
        return web.Response(status=code, headers={"Location": self.to})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/r{code:[0-9]+}", self._answer)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def _notifier(system: System, resolver: ChaosResolver, allow: str) -> web.AppRunner:
    partners = {p.id: {"name": p.id, "keys": [p.key]} for p in system.partners}
    settings = load_settings(
        NotifierSettings,
        {
            "KAFKA_BOOTSTRAP_SERVERS": system.config.bootstrap_servers,
            "TABRIDGE_TOPIC_NAMESPACE": system.config.namespace,
            "LOG_LEVEL": "CRITICAL",
            "NOTIFIER_DB_PATH": str(system.config.state_dir / "ssrf-notifier.db"),
            "NOTIFIER_CONSUMER_GROUP": f"{system.config.namespace}.ssrf-notifier",
            "NOTIFIER_PARTNER_KEYS": json.dumps(partners),
            "NOTIFIER_ALLOWLIST": allow,
            "NOTIFIER_RETRY_DELAYS": "0,0.2",
            "NOTIFIER_RETRY_JITTER": "0",
            "NOTIFIER_ATTEMPT_TIMEOUT_SECONDS": "3",
        },
    )
    runner = web.AppRunner(create_app(settings, resolver=resolver), access_log=None)
    await runner.setup()
    return runner


async def run(system: System, *, quick: bool = False) -> Tally:
    tally = Tally("ssrf")
    resolver = ChaosResolver({k: list(v) for k, v in RESOLVER_TABLE.items()})
    async with Canary("127.0.0.1") as c1, Canary("127.0.0.2") as c2:
        redirector = Redirector(f"http://127.0.0.1:{c1.port}/")
        await redirector.start()
        runner = await _notifier(system, resolver, f"127.0.0.1:{redirector.port}")
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        base = f"http://127.0.0.1:{port}"
        auth = system.partners[0].auth
        try:
            await _wait_ready(system, base)
            for target in _targets(c1, c2):
                tally.cases += 1
                status = await _subscribe(system, base, auth, target)
                if status is None or status >= 500:
                    tally.fail("server_errors", f"subscribe {target[:80]}: {status}")
                elif status < 300:
                    tally.fail("allowed", f"subscription to {target[:80]} accepted ({status})")
                else:
                    tally.extra["refused_at_subscription"] += 1
            # Accepted now, turned inward before delivery: refused when connecting.
            rebinds = [f"http://rebind-a.chaos.test:{c2.port}/", "http://rebind-b.chaos.test/"]
            redirects = [
                f"http://127.0.0.1:{redirector.port}/r{code}" for code in (301, 302, 303, 307, 308)
            ]
            rebound: list[str] = []
            for target in rebinds + redirects:
                tally.cases += 1
                ids = rebound if target in rebinds else None
                if await _subscribe(system, base, auth, target, ids) != 201:
                    tally.fail("server_errors", f"could not subscribe {target}")
            resolver.answers["rebind-a.chaos.test"] = ["127.0.0.2"]
            resolver.answers["rebind-b.chaos.test"] = ["169.254.169.254"]
            await _publish_change(system)
            await _until(lambda: redirector.hits >= len(redirects), 60)
            await _until(lambda: _attempted(system, base, auth, rebound), 60)
            tally.extra["redirects_answered"] = redirector.hits
            tally.extra["rebinds_attempted"] = len(rebound)
        finally:
            await runner.cleanup()
            await redirector.stop()
        connections = c1.connections + c2.connections
        if connections:
            tally.fail("allowed", f"{connections} connection(s) reached the canaries")
        tally.extra["canary_connections"] = connections
    return tally


async def _subscribe(
    system: System, base: str, auth: dict[str, str], url: str, ids: list[str] | None = None
) -> int | None:
    try:
        async with system.http.post(
            f"{base}/v1/subscriptions", json={"url": url, "event_types": ["*"]}, headers=auth
        ) as resp:
            body = await resp.read()
            if resp.status == 201 and ids is not None:
                ids.append(json.loads(body)["id"])
            return resp.status
    except OSError:
        return None


async def _attempted(system: System, base: str, auth: dict[str, str], ids: list[str]) -> bool:
    for subscription_id in ids:
        async with system.http.get(
            f"{base}/v1/subscriptions/{subscription_id}/attempts", headers=auth
        ) as resp:
            if not (await resp.json()).get("items"):
                return False
    return True


async def _publish_change(system: System) -> None:
    async with system.http.post(
        system.url("registry", "/v1/activities"),
        json=activity_doc(),
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    ) as resp:
        assert resp.status == 201, await resp.text()


async def _wait_ready(system: System, base: str) -> None:
    async def ready() -> bool:
        async with system.http.get(f"{base}/readyz") as resp:
            return resp.status == 200

    await _until(ready, 60)


async def _until(probe: object, within: float) -> None:
    """Poll `probe` (sync or async, truthy when done) every 0.2 s for `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        result = probe() if callable(probe) else probe
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError("condition not met in time")
