"""The listening sockets of `icalfeed serve`, bound before anything else starts: a server
that cannot listen stops with one line saying why, having loaded nothing and asked Launch
Library 2 nothing."""

from __future__ import annotations

import contextlib
import errno
import socket
from typing import Any

from ..base.errors import StartupError

# What `getaddrinfo` gives to bind to: (host, port), or for IPv6 (host, port, flow, scope).
Address = tuple[Any, ...]

# Why a bind or listen failed, in an operator's words.
_WHY = {
    errno.EADDRINUSE: "address already in use",
    errno.EACCES: "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
    errno.EADDRNOTAVAIL: "no such address on this machine",
}


def listen_on(host: str, port: int) -> list[socket.socket]:
    """One listening socket per address `host` resolves to (as waitress would bind them),
    or StartupError naming the address and the problem."""
    where = f"{host}:{port}"
    addresses = _resolve(host, port, where)
    sockets: list[socket.socket] = []
    try:
        for family, sockaddr in addresses:
            sockets.append(_listening(family, sockaddr))
    except OSError as exc:
        for sock in sockets:
            sock.close()
        why = _WHY.get(exc.errno or 0) or (exc.strerror or str(exc)).lower()
        raise StartupError(f"cannot listen on {where}: {why}") from None
    return sockets


def _resolve(host: str, port: int, where: str) -> list[tuple[int, Address]]:
    """The distinct (family, address) pairs to bind for `host`; "*" or "" means every one."""
    name = None if host in ("", "*") else host.strip("[]")
    try:
        found = socket.getaddrinfo(
            name, port, socket.AF_UNSPEC, socket.SOCK_STREAM, socket.IPPROTO_TCP, socket.AI_PASSIVE
        )
    except (socket.gaierror, UnicodeError) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        raise StartupError(f"cannot listen on {where}: unknown host ({why})") from None
    pairs: list[tuple[int, Address]] = []
    seen: set[tuple[str, int]] = set()
    for family, _, _, _, sockaddr in found:
        # The same address may come twice, with another zone index (IPv6 link-local).
        key = (str(sockaddr[0]).split("%", 1)[0], int(sockaddr[1]))
        if family in (socket.AF_INET, socket.AF_INET6) and key not in seen:
            seen.add(key)
            pairs.append((int(family), sockaddr))
    return pairs


def _listening(family: int, sockaddr: Address) -> socket.socket:
    """A socket bound to `sockaddr` and listening; OSError when the system refuses."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(sockaddr)
        sock.listen()
    except OSError:
        with contextlib.suppress(OSError):
            sock.close()
        raise
    return sock
