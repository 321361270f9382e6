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
