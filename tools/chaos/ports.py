"""Ports the suite's own servers bind later (a receiver that goes down and comes back, a
broker): chosen below the kernel's ephemeral range (32768+ on Linux), so that no outgoing
connection takes one in the meantime."""

from __future__ import annotations

import random
import socket


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports nothing listens on right now."""
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
