"""SSRF protection: which webhook targets we are willing to connect to.

Only http(s) URLs whose host is, and resolves to, a globally routable unicast address are
accepted, unless an allowlist entry (a CIDR or an exact ``host:port``) says otherwise. The
check runs when a subscription is written and again on every delivery, inside the HTTP
client's resolver (:class:`VettingResolver`), so the address we connect to is the address we
vetted: a DNS answer that changes between check and connect (rebinding) cannot slip through.
IP literals are parsed the way ``inet_aton`` does (``2130706433``, ``0x7f.1``, ``0177.0.0.1``),
and IPv6 addresses that embed an IPv4 one (mapped, 6to4, Teredo, NAT64) are judged by it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from .errors import UnsafeTargetError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_MAX_URL_LENGTH = 2048


class TargetRefusedError(OSError):
    """Raised inside the HTTP client when a resolved address is not allowed."""


def legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Parse ``host`` as ``inet_aton`` would (1-4 parts, decimal/octal/hex); None if not."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers: list[int] = []
    for part in parts:
        lowered = part.lower()
        try:
            if lowered.startswith("0x"):
                numbers.append(int(lowered[2:] or "0", 16))
            elif len(lowered) > 1 and lowered.startswith("0"):
                numbers.append(int(lowered, 8))
            elif lowered.isdigit():
                numbers.append(int(lowered))
            else:
                return None
        except ValueError:
            return None
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (4 - len(leading)):
        return None
    value = last
    for index, number in enumerate(leading):
        value |= number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def literal_address(host: str) -> IPAddress | None:
    """The address an IP-literal host denotes, in any accepted spelling; None for names."""
    bare = host.strip("[]").rstrip(".")
    if ":" in bare:
        try:
            return ipaddress.IPv6Address(bare.split("%", 1)[0])
        except ValueError:
            return None
    return legacy_ipv4(bare)


def blocked_reason(address: IPAddress) -> str | None:
    """Why ``address`` may not be a webhook target, or None if it may."""
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            inner = blocked_reason(embedded)
            return f"an IPv6 form of {embedded} ({inner})" if inner else None
    checks = (
        (address.is_unspecified, "the unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address in _CGNAT, "a carrier-grade NAT address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (not address.is_global, "not a globally routable address"),
    )
    return next((label for hit, label in checks if hit), None)


@dataclass(frozen=True)
class TargetPolicy:
    """Allowlist plus the block rules above; ``check_*`` raise :class:`UnsafeTargetError`."""

    allowed_networks: tuple[IPNetwork, ...] = ()
    allowed_endpoints: frozenset[tuple[str, int]] = frozenset()

    @classmethod
    def from_allowlist(cls, entries: Iterable[str]) -> TargetPolicy:
        """Build from settings entries: ``127.0.0.1/32``, ``::1``, ``hooks.local:8080``."""
        networks: list[IPNetwork] = []
        endpoints: set[tuple[str, int]] = set()
        for raw in entries:
            entry = raw.strip()
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            host, sep, port = entry.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"allowlist entry {entry!r} is neither a CIDR nor host:port")
            endpoints.add((host.strip("[]").lower(), int(port)))
        return cls(tuple(networks), frozenset(endpoints))

    def check_url(self, url: str) -> URL:
        """Syntactic checks and IP-literal checks; returns the parsed URL."""
        if len(url) > _MAX_URL_LENGTH:
            raise UnsafeTargetError(f"the URL is longer than {_MAX_URL_LENGTH} characters")
        try:
            parsed = URL(url)
        except ValueError as exc:
            raise UnsafeTargetError(f"not a valid URL: {exc}") from exc
        if parsed.scheme not in {"http", "https"}:
            raise UnsafeTargetError("only http and https URLs are allowed")
        if not parsed.raw_host:
            raise UnsafeTargetError("the URL has no host")
        if parsed.user is not None or parsed.password is not None:
            raise UnsafeTargetError("the URL must not carry credentials")
        host = parsed.raw_host.lower()
        address = literal_address(host)
        if address is not None:
            self.check_address(host, parsed.port or 0, address)
        return parsed

    def check_address(self, host: str, port: int, address: IPAddress) -> None:
        """Refuse ``address`` (that ``host:port`` resolved to) unless allowed."""
        if (host.strip("[]").rstrip(".").lower(), port) in self.allowed_endpoints:
            return
        if any(address in network for network in self.allowed_networks):
            return
        reason = blocked_reason(address)
        if reason is not None:
            raise UnsafeTargetError(f"{host} is {reason} ({address}); webhooks go to public hosts")


class VettingResolver(AbstractResolver):
    """An aiohttp resolver that returns only addresses the policy allows.

    Connections are opened to the addresses returned here, so no second DNS lookup can
    substitute another one. Raises :class:`TargetRefusedError` (an OSError, which aiohttp
    reports as a connection error) when any resolved address is refused.
    """

    def __init__(self, policy: TargetPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner or ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        literal = literal_address(host)
        if literal is not None:
            self._vet(host, port, literal)
        results = await self._inner.resolve(host, port, family)
        for result in results:
            self._vet(host, port, ipaddress.ip_address(result["host"]))
        return results

    def _vet(self, host: str, port: int, address: IPAddress) -> None:
        try:
            self._policy.check_address(host, port, address)
        except UnsafeTargetError as exc:
            raise TargetRefusedError(str(exc)) from exc

    async def close(self) -> None:
        await self._inner.close()


async def vet_target(url: str, policy: TargetPolicy, resolver: AbstractResolver) -> None:
    """Check ``url`` now, including its DNS answer; raises :class:`UnsafeTargetError`."""
    parsed = policy.check_url(url)
    host = parsed.raw_host or ""
    if literal_address(host) is not None:
        return
    port = parsed.port or 0
    try:
        results = await resolver.resolve(host, port, socket.AF_UNSPEC)
    except OSError as exc:
        raise UnsafeTargetError(f"{host} does not resolve: {exc}") from exc
    for result in results:
        policy.check_address(host, port, ipaddress.ip_address(result["host"]))
