"""A request that provably never reached Launch Library 2 (its name did not resolve, its
connection was refused) is given back to the hourly budget; anything that may have reached
it (a read timeout after sending, a dropped answer) stays charged (issue 29)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from conftest import settings_against
from fake_ll2 import Fault
from ports import free_ports
from redistools import needs_redis

from icalfeed.base.config import Settings
from icalfeed.base.errors import UpstreamError
from icalfeed.ll2.budget import RequestBudget
from icalfeed.ll2.upstream import LL2Client

ROOT = Path(__file__).resolve().parents[1]


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def refused_url() -> str:
    """An LL2 base URL on a loopback port nobody listens on."""
    (port,) = free_ports(1)
    return f"http://127.0.0.1:{port}/2.3.0"


UNRESOLVABLE = "http://no-such-host.invalid/2.3.0"


def no_route(kind: str) -> str:
    """An LL2 base URL no request can reach: "refused" or "dns" (a name that never resolves)."""
    return refused_url() if kind == "refused" else UNRESOLVABLE


def clean_environ() -> dict[str, str]:
    """This process's environment without any ICALFEED_ variable a shell may have set."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ICALFEED_")}


def test_a_refund_gives_back_only_this_threads_last_request(tmp_path):
    clock = Clock()
    mine, other = RequestBudget(tmp_path, 3, clock), RequestBudget(tmp_path, 3, clock)
    assert mine.try_spend()
    clock.now += 1
    assert other.try_spend()
    mine.refund()
    assert other.status().stamps == (clock.now,)  # the other's request still counts
    mine.refund()  # nothing more to give back: a second refund changes nothing
    assert mine.status().used == 1


def test_refunds_never_let_more_than_the_limit_out_in_an_hour(tmp_path):
    budget = RequestBudget(tmp_path, 2, Clock())
    sent = 0
    for attempt in range(20):
        if not budget.try_spend():
            continue
        if attempt % 3 == 0:
            budget.refund()  # never left
        else:
            sent += 1
    assert sent == 2 and budget.status().used == 2


@pytest.mark.parametrize("kind", ["refused", "dns"])
def test_a_request_that_never_left_is_not_charged(tmp_path, kind):
    settings = Settings(upstream_url=no_route(kind), data_dir=tmp_path, connect_timeout=2)
    budget = RequestBudget(tmp_path, 12)
    client = LL2Client(settings, budget)
    with pytest.raises(UpstreamError) as failure:
        client.get_json(settings.upstream_url + "/events/")
    assert failure.value.reason == "unreachable"
    assert "nothing was sent" in str(failure.value)
    assert budget.status().used == 0 and client.requests_made == 0


def test_a_read_timeout_after_sending_stays_charged(tmp_path, fake_ll2):
    settings = settings_against(fake_ll2, tmp_path / "var", read_timeout=0.5)
    budget = RequestBudget(settings.data_dir, 12)
    fake_ll2.fail_next(Fault(200, b"{}", delay=2))
    with pytest.raises(UpstreamError) as failure:
        LL2Client(settings, budget).get_json(fake_ll2.base_url + "/events/")
    assert failure.value.reason == "timeout"
    assert budget.status().used == 1 and len(fake_ll2.requests) == 1


def test_a_connection_dropped_after_sending_stays_charged(tmp_path, fake_ll2):
    settings = settings_against(fake_ll2, tmp_path / "var")
    budget = RequestBudget(settings.data_dir, 12)
    fake_ll2.fail_next(Fault(close=True))
    with pytest.raises(UpstreamError) as failure:
        LL2Client(settings, budget).get_json(fake_ll2.base_url + "/events/")
    assert failure.value.reason == "unreachable"
    assert budget.status().used == 1 and len(fake_ll2.requests) == 1


@pytest.mark.parametrize(
    ("kind", "why"), [("refused", "connection refused"), ("dns", "DNS lookup failed")]
)
def test_icalfeed_sync_without_a_route_to_ll2_spends_nothing(tmp_path, kind, why):
    env = clean_environ()
    env |= {"ICALFEED_DATA_DIR": str(tmp_path / "var"), "ICALFEED_UPSTREAM_URL": no_route(kind)}
    result = subprocess.run(
        [sys.executable, "-m", "icalfeed", "sync"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    last = result.stderr.splitlines()[-1]
    assert last.startswith("sync failed: 0 requests"), result.stderr
    assert "12 requests left this hour" in last
    assert f"unreachable: cannot reach <host>: {why}; nothing was sent" in last
    budget = json.loads((tmp_path / "var" / "budget.json").read_text())
    assert budget["requests"] == []


@needs_redis
def test_the_redis_budget_gives_back_a_request_that_never_left(tmp_path, redis_url):
    from icalfeed.data import redisstate

    client = redisstate.connect(redis_url)
    try:
        mine = redisstate.RedisBudget(client, 3)
        other = redisstate.RedisBudget(client, 3)
        assert mine.try_spend() and other.try_spend()
        mine.refund()
        assert mine.status().used == 1
        mine.refund()  # once only
        assert other.status().used == 1
        settings = Settings(upstream_url=refused_url(), data_dir=tmp_path, connect_timeout=2)
        with pytest.raises(UpstreamError):
            LL2Client(settings, mine).get_json(settings.upstream_url + "/events/")
        assert mine.status().used == 1
    finally:
        client.close()


def test_a_server_without_a_route_to_ll2_keeps_its_budget(tmp_path):
    """A real server process syncing against a refused port: /healthz shows the failure and
    nothing spent."""
    (port,) = free_ports(1)
    env = clean_environ() | {
        "ICALFEED_DATA_DIR": str(tmp_path / "var"),
        "ICALFEED_UPSTREAM_URL": refused_url(),
        "ICALFEED_SYNC_TICK_SECONDS": "1",
    }
    log = tmp_path / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "icalfeed", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    try:
        health = _health_once_failed(f"http://127.0.0.1:{port}/healthz")
    finally:
        process.terminate()
        process.wait(10)
    assert health is not None, log.read_text()
    assert "connection refused; nothing was sent" in health["last_error"]
    assert health["budget"]["used_last_hour"] == 0


def _health_once_failed(url: str) -> dict[str, Any] | None:
    """/healthz once it reports a sync error (None if it does not within 30 s)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                health: dict[str, Any] = json.loads(response.read())
        except OSError:  # not listening yet
            health = {}
        if health.get("last_error"):
            return health
        time.sleep(0.2)
    return None
