"""Free loopback ports for the tests that start real servers."""

from __future__ import annotations

import random
import socket

# Below the kernel's ephemeral range (32768-60999 on Linux), so that a client polling a server
# that does not listen yet can never be given the same port as its own source and connect to
# itself (TCP simultaneous open), reading its request back as the answer.
LOW, HIGH = 20000, 32000


def free_ports(count: int) -> list[int]:
    """Distinct free ports outside the ephemeral range (held open together while chosen)."""
    sockets: list[socket.socket] = []
    try:
        while len(sockets) < count:
            sock = socket.socket()
            try:
                sock.bind(("127.0.0.1", random.randrange(LOW, HIGH)))
            except OSError:
                sock.close()
                continue
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
