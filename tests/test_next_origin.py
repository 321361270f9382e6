"""A `next` link is followed only on the API's own origin: scheme, host and port (#31). The
API key goes with every request: never in clear after a link downgraded to http, never to
another port of the same host."""

from __future__ import annotations

import json
import ssl
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from conftest import settings_against
from fake_ll2 import FakeLL2, Fault
from ll2data import upstream_events
from synctools import Clock, make_syncer

from icalfeed.base.errors import UpstreamError
from icalfeed.ll2.budget import RequestBudget
from icalfeed.ll2.upstream import LL2Client, origin_problem

KEY = "k3y-that-must-stay-secret-0123456789"


@pytest.mark.parametrize(
    ("link", "problem"),
    [
        ("https://ll.thespacedevs.com/2.3.0/events/?offset=100", None),
        ("https://LL.thespacedevs.com:443/2.3.0/events/?offset=100", None),
        ("http://ll.thespacedevs.com/2.3.0/events/?offset=100", "downgrades to http"),
        ("http://ll.thespacedevs.com:443/2.3.0/events/", "downgrades to http"),
        ("https://ll.thespacedevs.com:8443/2.3.0/events/", "points to another host or port"),
        ("https://evil.example/2.3.0/events/?offset=100", "points to another host or port"),
        ("ftp://ll.thespacedevs.com/2.3.0/events/", "changes the scheme to ftp"),
        ("https://ll.thespacedevs.com:99999/", "is not a URL"),
    ],
)
def test_the_origin_is_scheme_host_and_port(link, problem):
    assert origin_problem(link, "https://ll.thespacedevs.com/2.3.0/") == problem


def _first_page_with_next(fake: FakeLL2, next_url: str) -> None:
    """The next upcoming page LL2 answers says `next_url` follows it."""

    def answer(seen) -> None:
        if seen.path.endswith("/upcoming/") and not seen.params.get("offset"):
            body = fake.listing(seen.path, seen.params)
            body["next"] = next_url
            fake.fail_next(Fault(200, json.dumps(body).encode()))

    fake.on_request = answer


def test_a_next_link_to_another_port_is_refused_and_named(tmp_path, fake_ll2):
    """The same host on another port is someone else: it never hears of the request, nor of
    the key (it used to get both: only the host was compared)."""
    trap = FakeLL2([]).start()
    try:
        _first_page_with_next(fake_ll2, f"{trap.base_url}/events/upcoming/?limit=100&offset=100")
        settings = settings_against(fake_ll2, tmp_path / "var", api_key=KEY)
        syncer = make_syncer(settings, Clock())
        report = syncer.run()
    finally:
        trap.stop()
    assert trap.requests == []
    assert report.error is not None
    assert "bad-next: LL2's 'next' link points to another host or port; not followed" in (
        report.error
    )
    assert "bad-next" in (syncer.store.last_error or "")  # what /healthz shows
    assert KEY not in (syncer.store.last_error or "")
    assert all(r.headers.get("Authorization") == f"Token {KEY}" for r in fake_ll2.requests)


@pytest.fixture
def tls_ll2(tmp_path):
    """The fake LL2 over TLS (a self-signed certificate for 127.0.0.1). Its `next` links say
    http: a downgrade on the same host and port."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    made = subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip("openssl cannot make a test certificate")
    fake = FakeLL2(upstream_events())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    fake._server.socket = context.wrap_socket(fake._server.socket, server_side=True)
    fake.start()
    yield fake, cert
    fake.stop()


def test_a_next_link_downgraded_to_http_is_refused_and_the_key_never_sent_in_clear(
    tmp_path, tls_ll2
):
    fake, cert = tls_ll2
    https_base = fake.base_url.replace("http://", "https://")
    plain_next = f"{fake.base_url}/events/upcoming/?limit=100&offset=100"  # http, same port
    assert plain_next.startswith("http://127.0.0.1:")
    _first_page_with_next(fake, plain_next)
    settings = replace(
        settings_against(fake, tmp_path / "var", api_key=KEY), upstream_url=https_base
    )
    session = requests.Session()
    session.verify = str(cert)
    session.trust_env = False  # REQUESTS_CA_BUNDLE would win over `verify`
    client = LL2Client(settings, RequestBudget(settings.data_dir, 12), session=session)
    pages = []
    with pytest.raises(UpstreamError) as refused:
        pages.extend(client.pages("events/upcoming/", {}))
    assert refused.value.reason == "bad-next"
    assert str(refused.value) == "LL2's 'next' link downgrades to http; not followed"
    assert len(pages) == 1 and client.requests_made == 1  # the https page, and nothing else
    assert len(fake.requests) == 1 and fake.requests[0].headers["Authorization"] == f"Token {KEY}"
    assert Path(cert).exists()
