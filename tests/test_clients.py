"""Who a request counts against: the socket peer, or behind a trusted proxy the address it
forwarded in the one header it writes; IPv6 clients by network."""

from __future__ import annotations

import pytest

from icalfeed.base.config import Settings
from icalfeed.base.errors import ConfigError
from icalfeed.serving.clients import CLIENT, BehindProxy, ClientIdentity

PROXY = "10.0.0.1"


def environ(peer: str = PROXY, **headers: str) -> dict[str, str]:
    return {"REMOTE_ADDR": peer, **{f"HTTP_{k.upper()}": v for k, v in headers.items()}}


@pytest.mark.parametrize(
    ("request_environ", "trusted", "expected"),
    [
        (environ("203.0.113.9", x_forwarded_for="1.2.3.4"), None, "203.0.113.9"),
        (environ(x_forwarded_for="1.2.3.4"), None, PROXY),
        (environ(x_forwarded_for="1.2.3.4"), PROXY, "1.2.3.4"),
        # The nearest hop our own proxies did not add; 6.6.6.6 is the client's claim.
        (environ(x_forwarded_for="6.6.6.6, 1.2.3.4, 10.0.0.2"), "10.0.0.0/8", "1.2.3.4"),
        # Several X-Forwarded-For lines (joined by the server) are one list.
        (environ(x_forwarded_for="6.6.6.6,1.2.3.4"), PROXY, "1.2.3.4"),
        # A trusted peer with no header, or only hops of our own: the leftmost of ours.
        (environ(), PROXY, PROXY),
        (environ(x_forwarded_for="10.0.0.7"), "10.0.0.0/8", "10.0.0.7"),
        # Garbage where an address should be: nothing left of it was written by our proxy.
        (environ(x_forwarded_for="1.2.3.4, unknown"), PROXY, PROXY),
        (environ(x_forwarded_for="[2001:db8::1]:4711"), PROXY, "2001:db8::1"),
        (environ(x_forwarded_for="::ffff:198.51.100.7"), PROXY, "198.51.100.7"),
        (environ(x_forwarded_for="198.51.100.7:5555"), PROXY, "198.51.100.7"),
    ],
)
def test_the_address_trusts_forwarding_only_from_configured_proxies(
    request_environ, trusted, expected
):
    assert ClientIdentity.of(trusted).address(request_environ) == expected


def test_a_clients_own_forwarded_header_does_not_beat_the_proxys_x_forwarded_for():
    identity = ClientIdentity.of(PROXY)  # the default: the proxy writes X-Forwarded-For
    spoofed = environ(forwarded="for=9.9.9.9", x_forwarded_for="1.2.3.4")
    assert identity.address(spoofed) == "1.2.3.4"
    assert identity.address(environ(forwarded="for=9.9.9.9")) == PROXY
    assert identity.address(environ(x_real_ip="9.9.9.9")) == PROXY


def test_the_operator_names_the_one_header_their_proxy_writes():
    forwarded = ClientIdentity.of(PROXY, "Forwarded")
    assert forwarded.address(environ(forwarded='for="[2001:db8::1]:4711";proto=https')) == (
        "2001:db8::1"
    )
    claims = environ(forwarded="for=6.6.6.6, for=1.2.3.4;proto=https", x_forwarded_for="9.9.9.9")
    assert forwarded.address(claims) == "1.2.3.4"
    # An element without for= (or an obfuscated one) is a hop that cannot be read.
    assert forwarded.address(environ(forwarded="for=6.6.6.6, by=10.0.0.1")) == PROXY
    assert forwarded.address(environ(forwarded='for="_hidden"')) == PROXY
    real_ip = ClientIdentity.of(PROXY, "x-real-ip")
    assert real_ip.address(environ(x_real_ip="1.2.3.4", x_forwarded_for="9.9.9.9")) == "1.2.3.4"


def test_ipv6_clients_share_a_budget_per_64_and_ipv4_per_address():
    identity = ClientIdentity.of(PROXY)
    one = identity.key("2001:db8:1:2:aaaa::1")
    assert one == identity.key("2001:db8:1:2:ffff:eeee:dddd:1") == "2001:db8:1:2::/64"
    assert identity.key("2001:db8:1:3::1") != one
    assert identity.key("1.2.3.4") != identity.key("1.2.3.5")
    assert (
        ClientIdentity.of(PROXY, ipv6_prefix=56).key("2001:db8:1:2ff::1") == "2001:db8:1:200::/56"
    )
    assert ClientIdentity.of(None, ipv6_prefix=128).key("2001:db8::1") == "2001:db8::1"


def test_the_outer_layer_drops_forwarding_headers_from_untrusted_peers_and_takes_the_scheme():
    seen: list[dict] = []
    layer = BehindProxy(lambda env, start: seen.append(dict(env)) or [], ClientIdentity.of(PROXY))
    direct = environ("198.51.100.1", x_forwarded_for="1.2.3.4", x_forwarded_proto="https")
    layer({**direct, "wsgi.url_scheme": "http"}, None)
    proxied = environ(x_forwarded_for="1.2.3.4", x_forwarded_proto="https")
    layer({**proxied, "wsgi.url_scheme": "http"}, None)
    first, second = seen
    assert first[CLIENT] == "198.51.100.1" and first["wsgi.url_scheme"] == "http"
    assert "HTTP_X_FORWARDED_FOR" not in first and "HTTP_X_FORWARDED_PROTO" not in first
    assert second[CLIENT] == "1.2.3.4" and second["wsgi.url_scheme"] == "https"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"trusted_proxies": "10.0.0.1, not-an-address"}, "TRUSTED_PROXIES"),
        ({"trusted_proxy_header": "x-client-ip"}, "TRUSTED_PROXY_HEADER"),
        ({"ipv6_client_prefix": 12}, "IPV6_CLIENT_PREFIX"),
    ],
)
def test_unusable_proxy_settings_are_config_errors(values, message):
    with pytest.raises(ConfigError, match=message):
        Settings(**values).validated()
