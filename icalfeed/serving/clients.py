"""Who is asking: the socket peer, or behind a trusted reverse proxy the address it forwarded.

A forwarded address counts only when the socket peer is one of ``ICALFEED_TRUSTED_PROXIES``,
and only from the one header the operator's proxy writes (``ICALFEED_TRUSTED_PROXY_HEADER``:
``x-forwarded-for`` by default, ``forwarded`` or ``x-real-ip``). Proxies append to
``X-Forwarded-For`` and pass every other header through untouched, so any other forwarding
header is the client's own claim. The list is walked from the right, past the hops of our
own proxies; the first address they did not add is the client. Whatever a client writes to
the left of that is never read, so nobody can mint identities with a header.

Budgets are kept per client *key*: an IPv4 address, or the client's IPv6 network
(``/64`` by default, ``ICALFEED_IPV6_CLIENT_PREFIX``), since one ordinary IPv6 subscriber owns
a whole /64 and could otherwise rotate through fresh budgets. Logs show the full address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from ..base.networks import PROXY_HEADERS, Network, parse_address, trusted_networks, within
from .observe import StartResponse, WSGIApp

# Every forwarding header a client might send: dropped before the app when the peer is not
# a trusted proxy, so nothing behind this layer can be fooled by them.
_FORWARDING = (
    "HTTP_FORWARDED",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_BY",
    "HTTP_X_REAL_IP",
)
CLIENT = "icalfeed.client"  # environ keys: the address, worked out once per request
CLIENT_KEY = "icalfeed.client_key"


@dataclass(frozen=True, slots=True)
class ClientIdentity:
    """How this deployment tells its clients apart (see the module docstring)."""

    trusted: tuple[Network, ...] = ()
    header: str = "x-forwarded-for"
    ipv6_prefix: int = 64

    @classmethod
    def of(
        cls, trusted: str | None, header: str = "x-forwarded-for", ipv6_prefix: int = 64
    ) -> ClientIdentity:
        """From the settings' text (see `trusted_networks`)."""
        return cls(trusted_networks(trusted), header.lower(), ipv6_prefix)

    def trusts(self, environ: Mapping[str, Any]) -> bool:
        """Whether the socket peer is one of our proxies."""
        return bool(self.trusted) and within(str(environ.get("REMOTE_ADDR") or ""), self.trusted)

    def address(self, environ: Mapping[str, Any]) -> str:
        """The client's address: the peer, or, when the peer is a trusted proxy, the nearest
        hop of the trusted header that our proxies did not add themselves."""
        peer = str(environ.get("REMOTE_ADDR") or "unknown")
        if not self.trusts(environ):
            return _canonical(peer)
        nearest = peer
        for hop in reversed(self._hops(environ)):  # the rightmost hop is our proxy's
            if parse_address(hop) is None:
                break  # not an address: nothing left of it was written by a proxy of ours
            nearest = hop
            if not within(hop, self.trusted):
                break
        return _canonical(nearest)

    def key(self, address: str) -> str:
        """What a budget is kept under: the address, or its IPv6 network."""
        ip = parse_address(address)
        if isinstance(ip, ipaddress.IPv6Address) and self.ipv6_prefix < 128:
            return str(ipaddress.IPv6Network((ip, self.ipv6_prefix), strict=False))
        return address

    def _hops(self, environ: Mapping[str, Any]) -> list[str]:
        value = environ.get(PROXY_HEADERS.get(self.header, "HTTP_X_FORWARDED_FOR"))
        if not value:
            return []
        if self.header == "forwarded":
            return _forwarded_for(str(value))
        return [_bare(part.strip()) for part in str(value).split(",") if part.strip()]


class BehindProxy:
    """The outer WSGI layer: works out the client once per request, drops forwarding
    headers a client sent to us directly, and takes the scheme (``https``) from a trusted
    proxy's ``X-Forwarded-Proto`` so links built from the request are right behind TLS."""

    def __init__(self, app: WSGIApp, identity: ClientIdentity) -> None:
        self.app = app
        self.identity = identity

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        remember(environ, self.identity)
        if self.identity.trusts(environ):
            proto = str(environ.get("HTTP_X_FORWARDED_PROTO", "")).rsplit(",", 1)[-1].strip()
            if proto.lower() in ("http", "https"):
                environ["wsgi.url_scheme"] = proto.lower()
        else:
            for name in _FORWARDING:
                environ.pop(name, None)
        return self.app(environ, start_response)


def remember(environ: MutableMapping[str, Any], identity: ClientIdentity) -> str:
    """The request's client address, worked out once and kept in the environ."""
    client = environ.get(CLIENT)
    if client is None:
        client = environ[CLIENT] = identity.address(environ)
        environ[CLIENT_KEY] = identity.key(client)
    return str(client)


def _forwarded_for(value: str) -> list[str]:
    """RFC 7239's ``for=`` values in order: ``for=192.0.2.60, for="[2001:db8::1]:4711"``."""
    hops = []
    for element in value.split(","):
        found = ""  # an element without for= is a hop we cannot read
        for pair in element.split(";"):
            name, _, text = pair.strip().partition("=")
            if name.strip().lower() == "for":
                found = _bare(text.strip().strip('"'))
        hops.append(found)
    return hops


def _bare(value: str) -> str:
    """An address without port or brackets: ``[2001:db8::1]:4711`` → ``2001:db8::1``."""
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def _canonical(text: str) -> str:
    """One spelling per address (``::FFFF:1.2.3.4`` and ``1.2.3.4`` are one client)."""
    ip = parse_address(text)
    return text if ip is None else str(ip)
