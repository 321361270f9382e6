"""The LL2 client against a fake LL2 on loopback: paging, headers, 429, failures."""

from __future__ import annotations

import time

import pytest
from fake_ll2 import Fault

from icalfeed.base.errors import UpstreamError
from icalfeed.ll2.budget import RequestBudget
from icalfeed.ll2.upstream import DEFAULT_THROTTLE_SECONDS, LL2Client


def client_for(settings, limit=12):
    return LL2Client(settings, RequestBudget(settings.data_dir, limit))


def test_pages_follow_next_with_limit_100(online_settings, fake_ll2):
    client = client_for(online_settings)
    pages = list(client.pages("events/", {"mode": "detailed", "ordering": "last_updated"}))
    assert len(pages) == 3 and pages[-1].next_url is None
    assert sum(len(p.parsed.items) for p in pages) == len(fake_ll2.events)
    assert [r.params.get("offset", "0") for r in fake_ll2.requests] == ["0", "100", "200"]
    assert all(r.params["limit"] == "100" for r in fake_ll2.requests)
    assert client.requests_made == 3


def test_sends_user_agent_and_token(online_settings, fake_ll2):
    from dataclasses import replace

    settings = replace(online_settings, api_key="s3cret")
    list(client_for(settings).pages("events/upcoming/", {}))
    headers = fake_ll2.requests[0].headers
    assert headers["User-Agent"].startswith("icalfeed/")
    assert headers["Authorization"] == "Token s3cret"


def test_no_token_header_without_a_key(online_settings, fake_ll2):
    list(client_for(online_settings).pages("events/upcoming/", {}))
    assert "Authorization" not in fake_ll2.requests[0].headers


def test_stops_quietly_when_the_budget_is_spent(online_settings, fake_ll2):
    client = client_for(online_settings, limit=2)
    pages = list(client.pages("events/", {"ordering": "last_updated"}))
    assert len(pages) == 2 and pages[-1].next_url is not None
    assert len(fake_ll2.requests) == 2


def test_429_with_retry_after_pauses_the_shared_budget(online_settings, fake_ll2):
    fake_ll2.fail_next(Fault(429, b'{"detail":"throttled"}', {"Retry-After": "120"}))
    client = client_for(online_settings)
    with pytest.raises(UpstreamError) as caught:
        list(client.pages("events/", {}))
    assert caught.value.reason == "throttled"
    assert caught.value.retry_at == pytest.approx(time.time() + 120, abs=5)
    again = RequestBudget(online_settings.data_dir, 12)
    assert not again.try_spend()  # another process sharing the data dir waits too
    assert len(fake_ll2.requests) == 1


def test_429_detail_text_gives_the_wait(online_settings, fake_ll2):
    detail = b'{"detail":"Request was throttled. Expected available in 1834 seconds."}'
    fake_ll2.fail_next(Fault(429, detail))
    with pytest.raises(UpstreamError) as caught:
        list(client_for(online_settings).pages("events/", {}))
    assert caught.value.retry_at == pytest.approx(time.time() + 1834, abs=5)


def test_429_without_any_hint_waits_a_default(online_settings, fake_ll2):
    fake_ll2.fail_next(Fault(429, b"slow down", {"Content-Type": "text/plain"}))
    with pytest.raises(UpstreamError) as caught:
        list(client_for(online_settings).pages("events/", {}))
    expected = time.time() + DEFAULT_THROTTLE_SECONDS
    assert caught.value.retry_at == pytest.approx(expected, abs=5)


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (Fault(500), "http-500"),
        (Fault(502), "http-502"),
        (Fault(503, headers={"Retry-After": "30"}), "http-503"),
        (Fault(200, b'{"count": 3, "results": [{"id": 1'), "bad-json"),
        (
            Fault(200, b"<html><body>Maintenance</body></html>", {"Content-Type": "text/html"}),
            "bad-json",
        ),
        (Fault(200, b'{"detail": "odd"}'), "bad-shape"),
        (Fault(delay=3.0), "timeout"),
        (Fault(close=True), "unreachable"),
    ],
    ids=["500", "502", "503", "truncated", "html", "no-results", "timeout", "dropped"],
)
def test_failures_become_upstream_errors(online_settings, fake_ll2, fault, reason):
    fake_ll2.fail_next(fault)
    with pytest.raises(UpstreamError) as caught:
        list(client_for(online_settings).pages("events/", {}))
    assert caught.value.reason == reason


def test_connection_refused_is_unreachable(online_settings, fake_ll2):
    from dataclasses import replace

    fake_ll2.stop()
    with pytest.raises(UpstreamError) as caught:
        list(client_for(replace(online_settings, upstream_url=fake_ll2.base_url)).pages("x/", {}))
    assert caught.value.reason == "unreachable"
    # Refused before anything was sent: not charged (tests/test_never_sent.py), and said so.
    assert str(caught.value) == "cannot reach 127.0.0.1: connection refused; nothing was sent"


def test_a_next_link_that_loops_is_caught(online_settings, fake_ll2):
    loop = f'{{"count": 1, "next": "{fake_ll2.base_url}/events/", "results": []}}'.encode()
    fake_ll2.fail_next(Fault(200, loop), Fault(200, loop))
    with pytest.raises(UpstreamError) as caught:
        list(client_for(online_settings).pages("events/", {}))
    assert caught.value.reason == "paging-loop"
    assert len(fake_ll2.requests) == 2
