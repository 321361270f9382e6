"""Client networks as settings name them: the trusted proxies, and the one header each may
write (see `serving.clients`, which tells clients apart with them)."""

from __future__ import annotations

import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# The headers a proxy may be trusted for, as WSGI environ keys.
PROXY_HEADERS = {
    "x-forwarded-for": "HTTP_X_FORWARDED_FOR",
    "forwarded": "HTTP_FORWARDED",
    "x-real-ip": "HTTP_X_REAL_IP",
}


def trusted_networks(spec: str | None) -> tuple[Network, ...]:
    """``"10.0.0.1, 192.168.0.0/16"`` → networks; empty when unset."""
    if not spec:
        return ()
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip()
    )


def parse_address(text: str) -> Address | None:
    """An address, or None; an IPv4-mapped IPv6 address is its IPv4 one (one client)."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def within(address: str, networks: tuple[Network, ...]) -> bool:
    """Whether `address` (any spelling) is in one of `networks`."""
    ip = parse_address(address)
    return ip is not None and any(ip in network for network in networks)
