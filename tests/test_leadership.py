"""Leadership on Redis with real `icalfeed serve` processes and a real redis-server (#31):
it follows reachability (a leader that cannot reach LL2 steps down, and the instance that
can syncs for all), and a lease given up or lost is taken at once, whatever the tick.

The times measured are printed (`pytest -s`) and bounded by the assertions; the README's
Redis protocol section quotes them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from conftest import SPARE_CADENCE_ENV
from ports import free_ports
from redistools import needs_redis, running_redis
from synctools import stand_in_client, stand_in_store

from icalfeed.data import redisstate
from icalfeed.sync.report import SyncReport
from icalfeed.sync.scheduler import SyncScheduler

pytestmark = needs_redis
LOG_TIME = "%Y-%m-%d %H:%M:%S,%f"


class Instance:
    """One `icalfeed serve` process on the shared Redis, its own data dir and log."""

    def __init__(self, tmp_path: Path, name: str, redis_url: str, upstream: str, **env: str):
        (self.port,) = free_ports(1)
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / f"{name}.log"
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "icalfeed", "serve", "--port", str(self.port)],
            env={
                **os.environ,
                "ICALFEED_UPSTREAM_URL": upstream,
                "ICALFEED_DATA_DIR": str(tmp_path / name),
                "ICALFEED_REDIS_URL": redis_url,
                "ICALFEED_LOG_LEVEL": "INFO",
                "ICALFEED_ACCESS_LOG": "0",
                **SPARE_CADENCE_ENV,
                **env,
            },
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("w"),
        )

    def health(self) -> dict | None:
        try:
            with urllib.request.urlopen(self.base + "/healthz", timeout=5) as answer:
                return json.loads(answer.read())
        except (OSError, ValueError):
            return None

    def when_logged(self, pattern: str) -> datetime | None:
        """When the first log line matching `pattern` was written."""
        for line in self.log.read_text().splitlines():
            if re.search(pattern, line):
                return datetime.strptime(line[:23], LOG_TIME)
        return None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)


def _wait(condition: Callable[[], object], seconds: float, what: str, step: float = 0.1) -> float:
    """Seconds until `condition` held (AssertionError after `seconds`)."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if condition():
            return time.monotonic() - start
        time.sleep(step)
    raise AssertionError(f"not within {seconds} s: {what}")


@pytest.fixture
def redis_url(tmp_path) -> Iterator[str]:
    with running_redis(tmp_path) as (url, _):
        yield url


@pytest.fixture
def instances() -> Iterator[list[Instance]]:
    started: list[Instance] = []
    yield started
    for instance in started:
        instance.stop()


def _synced(instance: Instance, count: int) -> bool:
    health = instance.health()
    return bool(health and health["source"] == "snapshot" and health["events"] == count)


def test_a_leader_that_cannot_reach_ll2_steps_down_for_one_that_can(
    tmp_path, fake_ll2, redis_url, instances
):
    """Lease 6 s, tick 1 s. A (its upstream refuses connections) takes the lease first; B can
    reach LL2. A used to keep the lead for good (its passes backed off on their own
    schedules, so "two failed syncs in a row" never came) and nobody synced."""
    (closed,) = free_ports(1)  # nothing listens there: connection refused
    lease = 6.0
    settings = {"ICALFEED_LEASE_SECONDS": "6", "ICALFEED_SYNC_TICK_SECONDS": "1"}
    a = Instance(tmp_path, "a", redis_url, f"http://127.0.0.1:{closed}/2.3.0", **settings)
    instances.append(a)
    holder = redisstate.connect(redis_url)

    def a_took_the_lease() -> bool:
        named = (holder.get(redisstate.PREFIX + "leader") or b"").decode()
        return f":{a.process.pid}:" in named or bool(a.when_logged("this instance leads now"))

    _wait(a_took_the_lease, 30, "A taking the lease", 0.01)
    b = Instance(tmp_path, "b", redis_url, fake_ll2.base_url, **settings)
    instances.append(b)
    count = len(fake_ll2.events)
    _wait(lambda: _synced(b, count) and _synced(a, count), 4 * lease, "B syncing for both")
    a_led, a_left = a.when_logged("this instance leads now"), a.when_logged("stepping down")
    b_led = b.when_logged("this instance leads now")
    b_synced = b.when_logged("sync done")
    assert a_led and a_left and b_led and b_synced, (a.log.read_text(), b.log.read_text())
    step_down = (a_left - a_led).total_seconds()
    take_over = (b_synced - a_led).total_seconds()
    print(
        f"\nA stepped down {step_down:.2f} s after taking the lease; B synced for both "
        f"{take_over:.2f} s after A took it ({(b_synced - b_led).total_seconds():.2f} s "
        "after B took it, its start-up included)"
    )
    assert step_down <= lease  # its first sync, whose every pass found no route
    assert "no route to LL2 in this sync; stepping down for 12 s" in a.log.read_text()
    # A does not take the lease back before B had a fair try, nor after: B reaches LL2.
    end = time.monotonic() + 3 * lease
    while time.monotonic() < end:
        roles = (a.health() or {}).get("role"), (b.health() or {}).get("role")
        assert roles == ("follower", "leader"), roles
        time.sleep(0.5)
    health = b.health()
    assert health and health["status"] == "ok", health
    # Only what reached LL2 was charged: A's refused connections were given back.
    assert health["budget"]["used_last_hour"] == len(fake_ll2.requests)


def _leader_and_follower(instances: list[Instance]) -> tuple[Instance, Instance]:
    roles = {(i.health() or {}).get("role"): i for i in instances}
    return roles["leader"], roles["follower"]


def _two_synced(tmp_path, fake_ll2, redis_url, instances, **settings: str):
    for name in ("one", "two"):
        instances.append(Instance(tmp_path, name, redis_url, fake_ll2.base_url, **settings))
    count = len(fake_ll2.events)

    def one_leader_synced() -> bool:
        health = [i.health() or {} for i in instances]
        leading = [h for h in health if h.get("role") == "leader"]
        following = [h for h in health if h.get("role") == "follower"]
        return len(leading) == len(following) == 1 and leading[0].get("events") == count

    _wait(one_leader_synced, 30, "one leader, synced, and one follower")
    return _leader_and_follower(instances)


def test_a_released_lease_is_taken_at_once_whatever_the_tick(
    tmp_path, fake_ll2, redis_url, instances
):
    """Lease 60 s, tick 60 s (the default): a SIGTERM on the leader releases the lease, and
    the other takes it within a few seconds (it used to wait for its next tick: > 15 s)."""
    settings = {"ICALFEED_LEASE_SECONDS": "60", "ICALFEED_SYNC_TICK_SECONDS": "60"}
    leader, follower = _two_synced(tmp_path, fake_ll2, redis_url, instances, **settings)
    leader.process.send_signal(signal.SIGTERM)
    taken = _wait(
        lambda: (follower.health() or {}).get("role") == "leader", 15, "a new leader", 0.02
    )
    assert leader.process.wait(15) == 0
    print(f"\nreleased lease (SIGTERM) taken over in {taken:.2f} s (lease 60 s, tick 60 s)")
    assert taken < 3.0


def test_a_lost_lease_is_taken_when_it_runs_out_whatever_the_tick(
    tmp_path, fake_ll2, redis_url, instances
):
    """Lease 6 s, tick 60 s: a leader killed (nothing released) is replaced when its lease
    runs out, not at the other's next tick."""
    settings = {"ICALFEED_LEASE_SECONDS": "6", "ICALFEED_SYNC_TICK_SECONDS": "60"}
    leader, follower = _two_synced(tmp_path, fake_ll2, redis_url, instances, **settings)
    leader.process.send_signal(signal.SIGKILL)
    leader.process.wait(10)
    taken = _wait(
        lambda: (follower.health() or {}).get("role") == "leader", 30, "a new leader", 0.05
    )
    print(f"\nlost lease (SIGKILL) taken over in {taken:.2f} s (lease 6 s, tick 60 s)")
    assert taken < 6.0 + 3.0


class Scripted:
    """Just enough of a Syncer for SyncScheduler: each run returns the next scripted report."""

    def __init__(self, *reports: SyncReport) -> None:
        self.reports = list(reports)
        self.fresh: list[bool] = []
        self.retry_unanswered = False
        self.store, self.client = stand_in_store(), stand_in_client()

    def run(self, **_: object) -> SyncReport:
        self.fresh.append(self.retry_unanswered)
        return self.reports.pop(0)


REFUSED = "unreachable: cannot reach <host>: connection refused; nothing was sent [events changes]"
HTTP_502 = "http-502: LL2 answered HTTP 502 (…/events/) [events changes]"


def _failed(error: str, requests: int = 0) -> SyncReport:
    return SyncReport(requests=requests, error=error, errors=[error])


def test_runs_that_try_nothing_do_not_reset_the_failures(redis_url):
    """Each pass backs off on its own schedule, so between two failed syncs come syncs with
    nothing due: they used to reset the count, and "two in a row" never came."""
    client = redisstate.connect(redis_url)
    leader, other = redisstate.RedisLease(client, 30), redisstate.RedisLease(client, 30)
    idle = SyncReport(not_run="nothing due yet")
    syncer = Scripted(_failed(HTTP_502, 1), idle, idle, _failed(HTTP_502, 1))
    scheduler = SyncScheduler(syncer, tick_seconds=1, lease=leader)
    for _ in range(3):
        scheduler.run_once()
        assert leader.held  # LL2 answers (an error): one failure is no reason to leave
    scheduler.run_once()
    assert not leader.held and other.hold()  # two failed syncs in a row: another may try
    assert syncer.fresh == [True, False, False, False]  # a new leader's first sync only


def test_no_route_to_ll2_steps_down_at_once_and_stays_out_two_lease_periods(redis_url):
    client = redisstate.connect(redis_url)
    leader = redisstate.RedisLease(client, 3)
    scheduler = SyncScheduler(Scripted(_failed(REFUSED)), tick_seconds=1, lease=leader)
    scheduler.run_once()
    assert not leader.held and client.get(redisstate.PREFIX + "leader") is None
    time.sleep(2 * 3 - 0.5)
    assert not leader.hold()  # a fair try for the others first: two lease periods
    time.sleep(0.7)
    assert leader.hold()  # nobody else came: it tries again
