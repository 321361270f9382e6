"""A private redis-server per test (the `redis_url` and `rclient` fixtures, a plugin every
test module has: see conftest's `pytest_plugins`) and instances sharing it."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ports import free_ports

from icalfeed.base.config import Settings
from icalfeed.data.store import Store
from icalfeed.ll2.upstream import LL2Client
from icalfeed.sync.passes import Syncer

REDIS = shutil.which("redis-server")
needs_redis = pytest.mark.skipif(REDIS is None, reason="redis-server is not installed")


@contextlib.contextmanager
def running_redis(folder: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A redis-server of its own on a free loopback port, nothing saved (its files, if any,
    in `folder`), up and answering: its URL and process, killed afterwards."""
    assert REDIS is not None, "redis-server is not installed"
    (port,) = free_ports(1)
    process = subprocess.Popen(
        [
            REDIS,
            *("--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", str(folder)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0", process
    finally:
        process.kill()
        process.wait(10)


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with running_redis(tmp_path) as (url, _):
        yield url


@pytest.fixture
def rclient(redis_url):
    from icalfeed.data import redisstate

    client = redisstate.connect(redis_url)
    yield client
    client.close()


def instance(
    tmp_path: Path, name: str, redis_url: str, upstream: str, limit: int = 12, lead: bool = False
):
    """One instance's Store and Syncer, sharing snapshot and budget through Redis; `lead`
    takes the leader lease (only the leader may write the shared snapshot)."""
    from icalfeed.data import redisstate

    settings = Settings(
        upstream_url=upstream,
        data_dir=tmp_path / name,
        connect_timeout=2,
        read_timeout=2,
        redis_url=redis_url,
        # A schedule that leaves the first sync enough to read the fixture history whole.
        incremental_minutes=120,
        launch_incremental_minutes=120,
        reconcile_minutes=120,
    )
    settings.ensure_data_dir()
    client = redisstate.connect(redis_url)
    lease = redisstate.RedisLease(client, 60)
    if lead:
        assert lease.hold()
    store = Store(settings, shared=redisstate.RedisSnapshots(client, owner=lease.me))
    store.load()
    syncer = Syncer(settings, store, LL2Client(settings, redisstate.RedisBudget(client, limit)))
    syncer.lease = lease  # for the tests that run a scheduler tick
    return store, syncer, client
