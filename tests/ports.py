"""Ports for the servers the tests start, chosen so that two of them never race for one.

A port the kernel hands out for ``bind(0)`` comes from its ephemeral range,
the same range every outgoing connection takes its local port from: between
finding such a port free and a server binding it, a connection of another
test (a PostgreSQL client, an HTTP client) can take it, and the server fails
with "address already in use". These ports lie below the ephemeral range,
each pytest-xdist worker in a band of its own, and are checked free by
binding before they are handed out.
"""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

__all__ = ["free_port"]

_BAND = 1500  # ports per xdist worker
_FLOOR = 15000


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _band() -> tuple[int, int]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")  # gw0, gw1, ... under xdist
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    bands = max((_ephemeral_low() - _FLOOR) // _BAND, 1)
    low = _FLOOR + (index % bands) * _BAND
    return low, low + _BAND - 1


_taken: set[int] = set()  # handed out in this process: never twice, even once its server has stopped


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on, outside the ephemeral range, in this worker's band."""
    low, high = _band()
    for _ in range(500):
        port = random.randint(low, high)
        if port in _taken:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _taken.add(port)
        return port
    raise RuntimeError(f"no free port in {low}-{high} after 500 tries")
