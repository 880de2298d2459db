"""A webhook receiver on loopback that checks each delivery's Standard Webhooks signature.

Verification uses the notifier's own signing module (the `standardwebhooks` package is a
development dependency only): the signed content is `{id}.{timestamp}.{body}`, and the
delivery verifies when any `v1,` entry of `webhook-signature` matches, in constant time,
and the timestamp is within the tolerance of now.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from services.devstack.ports import serve
from services.notifier.signing import sign

TOLERANCE_SECONDS = 300


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook as it arrived: headers (lower-case names), raw body, verification result."""

    headers: Mapping[str, str]
    body: bytes
    verified: bool
    duplicate: bool = False
    """A verified delivery whose webhook-id was already handled (a retry or a redrive)."""

    @property
    def redelivery(self) -> int:
        """The redrive number the notifier sent (`webhook-redelivery`), 0 for a first delivery."""
        value = self.headers.get("webhook-redelivery", "0")
        return int(value) if value.isdigit() else 0

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    @property
    def event(self) -> dict[str, Any]:
        """The CloudEvent the body holds (structured mode); empty if it is not JSON."""
        try:
            document = json.loads(self.body)
        except ValueError:
            return {}
        return document if isinstance(document, dict) else {}

    @property
    def trace_id(self) -> str | None:
        """The trace id of the `traceparent` the delivery carried, if any."""
        parts = self.headers.get("traceparent", "").split("-")
        return parts[1] if len(parts) == 4 else None


def verify_signature(
    secrets: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    tolerance: float = TOLERANCE_SECONDS,
) -> bool:
    """True when `headers` carry a valid signature of `body` under one of `secrets`.

    `headers` use lower-case names. Never raises: a malformed header is simply invalid.
    """
    msg_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    if not msg_id or not stamp.isdigit() or abs(now - int(stamp)) > tolerance:
        return False
    presented = [
        entry for entry in headers.get("webhook-signature", "").split() if entry.startswith("v1,")
    ]
    for secret in secrets:
        try:
            expected = sign(secret, msg_id=msg_id, timestamp=int(stamp), body=body)
        except ValueError:
            continue
        if any(hmac.compare_digest(expected, entry) for entry in presented):
            return True
    return False


OnDelivery = Callable[[Delivery], Awaitable[None] | None]


class WebhookReceiver:
    """Accepts POSTs on `url`; 204 when the signature verifies, 401 when it does not.

    The signing secret is only known once the subscription exists (`trust(secret)`); a
    delivery that arrives earlier waits up to `secret_wait` seconds for it, then gets a 503
    so the notifier retries. Every delivery is recorded in `deliveries` and passed to
    `on_delivery`; `wait_for` blocks until one matches. Delivery is at least once, so the
    receiver de-duplicates on `webhook-id` as a partner should: a verified delivery whose id
    was handled before is marked `duplicate` (and still answered 204).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_delivery: OnDelivery | None = None,
        secret_wait: float = 5.0,
    ) -> None:
        self.host = host
        self.deliveries: list[Delivery] = []
        self._port = port
        self._on_delivery = on_delivery
        self._secret_wait = secret_wait
        self._secrets: list[str] = []
        self._handled: set[str] = set()
        self._trusted = asyncio.Event()
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._port}/webhooks"

    def trust(self, secret: str) -> None:
        """Verify deliveries with `secret` (from the subscription's 201 answer)."""
        self._secrets.append(secret)
        self._trusted.set()

    async def start(self) -> None:
        """Listen (on a free port when constructed with port 0)."""
        app = web.Application()
        app.router.add_post("/webhooks", self._receive)
        self._runner, self._port = await serve(app, self.host, self._port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait_for(self, predicate: Callable[[Delivery], bool], *, within: float) -> Delivery:
        """The first delivery (already arrived or to come) matching `predicate`, which sees
        each delivery once (deliveries are only appended).

        Raises:
            TimeoutError: none matched within `within` seconds.
        """
        seen = 0
        async with asyncio.timeout(within), self._arrived:
            while True:
                for delivery in self.deliveries[seen:]:
                    seen += 1
                    if predicate(delivery):
                        return delivery
                await self._arrived.wait()

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {name.lower(): value for name, value in request.headers.items()}
        if not self._trusted.is_set():
            try:
                await asyncio.wait_for(self._trusted.wait(), self._secret_wait)
            except TimeoutError:
                return web.Response(status=503, text="no signing secret yet")
        verified = verify_signature(self._secrets, headers, body, now=time.time())
        msg_id = headers.get("webhook-id", "")
        duplicate = verified and msg_id in self._handled
        if verified:
            self._handled.add(msg_id)
        delivery = Delivery(headers=headers, body=body, verified=verified, duplicate=duplicate)
        async with self._arrived:
            self.deliveries.append(delivery)
            self._arrived.notify_all()
        if self._on_delivery is not None:
            outcome = self._on_delivery(delivery)
            if outcome is not None:
                await outcome
        return web.Response(status=204 if verified else 401)
