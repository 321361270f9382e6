"""Free loopback ports for the tests that start real servers."""

from __future__ import annotations

import socket


def free_ports(count: int) -> list[int]:
    """Distinct free ports (held open together while chosen, so none repeats)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
