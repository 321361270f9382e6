"""Scale-out on a real Redis (Debian's redis-server on loopback): three server processes,
one leader, one budget, identical bytes, failover, and serving on when Redis goes away."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from conftest import SPARE_CADENCE_ENV
from fake_ll2 import Fault
from ports import free_ports
from redistools import running_redis

REDIS = shutil.which("redis-server")
if REDIS is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI must install Debian's redis-server for the scale-out tests")
    pytest.skip("redis-server is not installed (make redis)", allow_module_level=True)

FEED = "/events.ics?start=1957-01-01"


def _get(url: str) -> tuple[int, bytes, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read(), {k.lower(): v for k, v in response.headers.items()}


def _health(base: str) -> dict | None:
    try:
        return json.loads(_get(base + "/healthz")[1])
    except OSError:
        return None
    except ValueError:
        return None


def _wait(condition, seconds: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def redis_server(tmp_path) -> Iterator[tuple[str, subprocess.Popen]]:
    with running_redis(tmp_path) as server:
        yield server


@pytest.fixture
def cluster(tmp_path, fake_ll2, redis_server) -> Iterator[list[tuple[str, subprocess.Popen]]]:
    url, _ = redis_server
    ports = free_ports(3)
    instances = []
    for number, port in enumerate(ports):
        env = {
            **os.environ,
            "ICALFEED_UPSTREAM_URL": fake_ll2.base_url,
            "ICALFEED_DATA_DIR": str(tmp_path / f"instance{number}"),  # nothing shared on disk
            "ICALFEED_REDIS_URL": url,
            "ICALFEED_SYNC_TICK_SECONDS": "1",
            "ICALFEED_LEASE_SECONDS": "3",
            "ICALFEED_LOG_LEVEL": "WARNING",
            **SPARE_CADENCE_ENV,
        }
        log = open(tmp_path / f"instance{number}.log", "w")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "icalfeed", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        instances.append((f"http://127.0.0.1:{port}", process))
    yield instances
    for _, process in instances:
        if process.poll() is None:
            process.terminate()
            process.wait(10)


def _synced(instances, count: int) -> bool:
    health = [_health(base) for base, process in instances if process.poll() is None]
    return all(
        h and h["source"] == "snapshot" and h["backfill_complete"] and h["events"] == count
        for h in health
    )


def test_three_instances_one_leader_one_budget_same_bytes(cluster, fake_ll2):
    _wait(lambda: _synced(cluster, len(fake_ll2.events)), what="all instances synced")
    time.sleep(2)  # more ticks on every instance: nothing is due, nothing is spent
    # One full sync, whatever the number of instances: both windows and changes passes, and
    # 3 pages of event history, 1 (empty) of launch history.
    assert len(fake_ll2.requests_for("events")) == 5 and len(fake_ll2.requests) == 8
    roles = [_health(base)["role"] for base, _ in cluster]
    assert sorted(roles) == ["follower", "follower", "leader"]
    budgets = {_health(base)["budget"]["used_last_hour"] for base, _ in cluster}
    assert budgets == {8}  # one shared count
    answers = [_get(base + FEED) for base, _ in cluster]
    assert len({body for _, body, _ in answers}) == 1
    assert len({headers["etag"] for _, _, headers in answers}) == 1


def test_a_dead_leader_is_replaced(cluster, fake_ll2):
    _wait(lambda: _synced(cluster, len(fake_ll2.events)), what="all instances synced")
    leader = next((b, p) for b, p in cluster if _health(b)["role"] == "leader")
    leader[1].send_signal(signal.SIGKILL)
    leader[1].wait(10)
    survivors = [(b, p) for b, p in cluster if p is not leader[1]]
    _wait(
        lambda: sorted(_health(b)["role"] for b, _ in survivors) == ["follower", "leader"],
        seconds=15,
        what="a new leader",
    )
    assert all(_get(b + FEED)[0] == 200 for b, _ in survivors)


def test_instances_keep_serving_when_redis_goes_away(cluster, fake_ll2, redis_server):
    _wait(lambda: _synced(cluster, len(fake_ll2.events)), what="all instances synced")
    before = [_get(base + FEED) for base, _ in cluster]
    _, redis_process = redis_server
    redis_process.kill()
    redis_process.wait(10)
    time.sleep(3)  # several ticks against a Redis that is gone
    after = [_get(base + FEED) for base, _ in cluster]
    assert [a[0] for a in after] == [200, 200, 200]
    assert [a[1] for a in after] == [b[1] for b in before]
    health = [_health(base) for base, _ in cluster]
    assert all(h["events"] == len(fake_ll2.events) for h in health)
    assert all(h["role"] == "follower" for h in health)  # nobody can hold the lease
    assert all("shared store: unreachable" in (h["last_error"] or "") for h in health)
    assert all(h["status"] == "degraded" for h in health)


def test_redis_settings_are_validated():
    from icalfeed.base.config import Settings
    from icalfeed.base.errors import ConfigError

    with pytest.raises(ConfigError, match="ICALFEED_REDIS_URL must be a redis:// URL"):
        Settings.from_env({"ICALFEED_REDIS_URL": "http://x"})
    shown = Settings(redis_url="redis://user:secret@cache:6379/0").redacted["redis_url"]
    assert "secret" not in shown and "cache" in shown


# ------------------------------------------------------- `icalfeed sync` in a Redis cluster


def _cli_env(tmp_path, fake_ll2, redis_url: str, name: str = "by-hand") -> dict[str, str]:
    return {
        **os.environ,
        "ICALFEED_UPSTREAM_URL": fake_ll2.base_url,
        "ICALFEED_DATA_DIR": str(tmp_path / name),
        "ICALFEED_REDIS_URL": redis_url,
        "ICALFEED_SYNC_TICK_SECONDS": "1",
        "ICALFEED_LEASE_SECONDS": "3",
        "ICALFEED_LOG_LEVEL": "WARNING",
        **SPARE_CADENCE_ENV,
    }


def _hand_sync(env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "icalfeed", "sync", *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _rename_one(fake_ll2, name: str) -> None:
    event = dict(next(iter(fake_ll2.events.values())))
    event.update(name=name, last_updated=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    fake_ll2.upsert(event)


def test_a_hand_sync_asks_the_leader_and_every_instance_serves_the_change(
    cluster, fake_ll2, redis_server, tmp_path
):
    _wait(lambda: _synced(cluster, len(fake_ll2.events)), what="all instances synced")
    _rename_one(fake_ll2, "Renamed upstream before a hand sync")
    time.sleep(2)  # ticks pass: nothing is due, so nobody fetches the change by itself
    assert all(b"Renamed upstream" not in _get(base + FEED)[1] for base, _ in cluster)

    done = _hand_sync(_cli_env(tmp_path, fake_ll2, redis_server[0], "instance0"))
    assert done.returncode == 0, done.stderr
    assert "asking it to sync" in done.stderr and "~1 changed" in done.stderr
    _wait(
        lambda: all(b"Renamed upstream" in _get(base + FEED)[1] for base, _ in cluster),
        seconds=10,
        what="every instance serving the change",
    )
    etags = {_get(base + FEED)[2]["etag"] for base, _ in cluster}
    assert len(etags) == 1
    budgets = {_health(base)["budget"]["used_last_hour"] for base, _ in cluster}
    assert budgets == {len(fake_ll2.requests)}  # one count: the instances' and the command's


def test_a_hand_sync_with_no_leader_syncs_for_the_cluster(fake_ll2, redis_server, tmp_path):
    from icalfeed.base.config import Settings
    from icalfeed.data import redisstate
    from icalfeed.data.store import Store

    url = redis_server[0]
    done = _hand_sync(_cli_env(tmp_path, fake_ll2, url))
    assert done.returncode == 0, done.stderr
    assert "no instance leads" in done.stderr and "shared;" in done.stderr
    client = redisstate.connect(url)
    assert client.get("icalfeed:leader") is None  # the lease was given back
    # What a newly started instance (its own empty data dir) serves: the command's data.
    settings = Settings(data_dir=tmp_path / "newcomer", redis_url=url)
    settings.ensure_data_dir()
    store = Store(settings, shared=redisstate.RedisSnapshots(client, owner="x"))
    snapshot = store.load()
    assert snapshot.source == "snapshot" and len(snapshot.entries) == len(fake_ll2.events)
    used = redisstate.RedisBudget(client, 12).status().used
    assert used == len(fake_ll2.requests) > 0


def test_a_hand_sync_nobody_answers_exits_1_and_spends_nothing(fake_ll2, redis_server, tmp_path):
    from icalfeed.data import redisstate

    url = redis_server[0]
    client = redisstate.connect(url)
    client.set("icalfeed:leader", "a-leader-that-never-answers", px=60_000)
    started = time.monotonic()
    done = _hand_sync(_cli_env(tmp_path, fake_ll2, url))
    assert done.returncode == 1
    assert "no leading instance took the request" in done.stderr
    assert time.monotonic() - started < 30
    assert client.get("icalfeed:sync:request") is None  # withdrawn
    assert fake_ll2.requests == []


def test_render_reads_the_snapshot_the_instances_serve(fake_ll2, redis_server, tmp_path):
    env = _cli_env(tmp_path, fake_ll2, redis_server[0])
    _rename_one(fake_ll2, "Only in the shared snapshot")
    assert _hand_sync(env).returncode == 0
    # Another machine's command: its own empty data dir, the same Redis.
    env["ICALFEED_DATA_DIR"] = str(tmp_path / "elsewhere")
    rendered = subprocess.run(
        [sys.executable, "-m", "icalfeed", "render", "start=1957-01-01"],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert rendered.returncode == 0 and b"Only in the shared snapshot" in rendered.stdout


@pytest.fixture
def broken_upstream(fake_ll2):
    """LL2 failing from the start (listed before `cluster`, so no sync can succeed)."""
    fake_ll2.broken["/"] = Fault(502, b"<html>bad gateway</html>")
    return fake_ll2


def test_a_failing_leader_shows_on_every_instance(broken_upstream, cluster):
    from prometheus_client.parser import text_string_to_metric_families

    def all_degraded() -> bool:
        health = [_health(base) for base, _ in cluster]
        return all(h and "http-502" in (h["last_error"] or "") for h in health)

    _wait(all_degraded, seconds=30, what="every instance reporting the leader's failure")
    health = [_health(base) for base, _ in cluster]
    assert {h["status"] for h in health} == {"degraded"}
    assert len({h["streams"]["event"]["last_error"] for h in health}) == 1
    assert sorted(h["role"] for h in health) == ["follower", "follower", "leader"]
    follower = next(b for (b, _), h in zip(cluster, health, strict=True) if h["role"] == "follower")
    text = _get(follower + "/metrics")[1].decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    failures = families["icalfeed_stream_pass_failures"].samples
    assert max(s.value for s in failures if s.labels["kind"] == "event") >= 1


def test_every_instance_serves_the_same_changes(cluster, fake_ll2, redis_server, tmp_path):
    """The changes log is in the snapshot the instances share: a move one sync saw is the
    same entry (id, date seen) on every instance."""
    import feedparser

    _wait(lambda: _synced(cluster, len(fake_ll2.events)), what="all instances synced")
    event = dict(next(iter(fake_ll2.events.values())))
    event.update(
        date="2031-05-04T10:00:00Z", last_updated=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    fake_ll2.upsert(event)
    done = _hand_sync(_cli_env(tmp_path, fake_ll2, redis_server[0], "instance0"))
    assert done.returncode == 0, done.stderr

    def entries(base: str) -> list[tuple[str, str, str]]:
        parsed = feedparser.parse(_get(base + "/changes.atom?start=1957-01-01")[1])
        assert not parsed.bozo
        return [(e.id, e.updated, e.title) for e in parsed.entries]

    _wait(lambda: all(entries(base) for base, _ in cluster), seconds=10, what="changes everywhere")
    seen = [entries(base) for base, _ in cluster]
    assert seen[0] == seen[1] == seen[2]
    ((_, _, title),) = seen[0]
    assert title.startswith("Moved: ") and "4 May 2031 10:00 UTC" in title
