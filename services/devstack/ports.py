"""Loopback ports: finding a free one, and asking whether something answers on one."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket

from aiohttp import web


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (another process may still take it)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports nothing listens on right now, chosen below the kernel's
    ephemeral range (32768+ on Linux) so that no outgoing connection takes one before the
    server that is to bind it later (a broker restarted, a receiver brought back) does."""
    rng = random.Random()  # noqa: S311 - a port, not a secret
    held: list[socket.socket] = []
    try:
        while len(held) < count:
            sock = socket.socket()
            try:
                sock.bind(("127.0.0.1", rng.randrange(20_000, 32_000)))
            except OSError:
                sock.close()
                continue
            held.append(sock)
        return [int(sock.getsockname()[1]) for sock in held]
    finally:
        for sock in held:
            sock.close()


def parse_servers(servers: str) -> list[tuple[str, int]]:
    """`host:port[,host:port…]` as pairs; raises ValueError naming a malformed entry."""
    pairs: list[tuple[str, int]] = []
    for entry in (part.strip() for part in servers.split(",")):
        if not entry:
            continue
        host, sep, port = entry.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"{entry!r} is not host:port")
        pairs.append((host.strip("[]"), int(port)))
    if not pairs:
        raise ValueError("no host:port given")
    return pairs


async def answers(host: str, port: int, *, within: float = 1.0) -> bool:
    """True when a TCP connection to `host:port` succeeds within `within` seconds."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), within)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve `app` on `host:port` (0: a free port); the runner (to clean up) and the port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    await web.SockSite(runner, sock).start()
    return runner, int(sock.getsockname()[1])
