"""Two real server processes on one data dir: one sync, one budget, the same bytes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from email.message import Message

import pytest
from conftest import SPARE_CADENCE_ENV
from fake_ll2 import Fault
from ports import free_ports


def _get(url: str) -> tuple[bytes, Message]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(), response.headers


@pytest.fixture
def two_servers(tmp_path, fake_ll2):
    env = {
        **os.environ,
        "ICALFEED_UPSTREAM_URL": fake_ll2.base_url,
        "ICALFEED_DATA_DIR": str(tmp_path / "shared"),
        "ICALFEED_SYNC_TICK_SECONDS": "1",
        "ICALFEED_LOG_LEVEL": "WARNING",
        **SPARE_CADENCE_ENV,
    }
    ports = free_ports(2)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "icalfeed", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / f"server-{port}.log", "w"),  # noqa: SIM115
        )
        for port in ports
    ]
    yield [(f"http://127.0.0.1:{port}", tmp_path) for port in ports]
    for process in processes:
        process.terminate()
        process.wait(10)


def test_two_servers_share_one_sync_and_serve_the_same_bytes(two_servers, fake_ll2):
    bases = [base for base, _ in two_servers]
    deadline = time.monotonic() + 30
    health = []
    while time.monotonic() < deadline:
        try:
            health = [json.loads(_get(base + "/healthz")[0]) for base in bases]
        except OSError:
            time.sleep(0.2)
            continue
        if all(h["source"] == "snapshot" and h["backfill_complete"] for h in health):
            break
        time.sleep(0.2)
    logs = {p.name: p.read_text()[-2000:] for p in two_servers[0][1].glob("server-*.log")}
    assert health and all(h["events"] == len(fake_ll2.events) for h in health), (health, logs)
    time.sleep(2)  # a few more scheduler ticks on both: nothing is due, nothing is spent
    # One full sync in all, by whichever server got the lock: the windows and changes of both
    # kinds (4), 3 pages of event history and 1 (empty) of launch history.
    assert len(fake_ll2.requests_for("events")) == 5 and len(fake_ll2.requests) == 8
    assert health[0]["budget"]["used_last_hour"] >= 4 or health[1]["budget"]["used_last_hour"] >= 4
    bodies = [_get(base + "/events.ics?start=1957-01-01") for base in bases]
    assert bodies[0][0] == bodies[1][0]
    assert bodies[0][1]["ETag"] == bodies[1][1]["ETag"]


@pytest.fixture
def broken_upstream(fake_ll2):
    """LL2 failing from the start (listed before `two_servers`: no sync can succeed)."""
    fake_ll2.broken["/"] = Fault(500, b"<html>upstream maintenance</html>")
    return fake_ll2


def test_a_failing_sync_shows_on_every_process_of_the_data_dir(broken_upstream, two_servers):
    """Only one process syncs (the data dir's sync lock); both report its failure (#15)."""
    bases = [base for base, _ in two_servers]

    def health() -> list[dict]:
        try:
            return [json.loads(_get(base + "/healthz")[0]) for base in bases]
        except OSError:
            return []

    deadline = time.monotonic() + 30
    seen = health()
    while time.monotonic() < deadline and not (
        seen and all("http-500" in (h["last_error"] or "") for h in seen)
    ):
        time.sleep(0.2)
        seen = health()
    assert seen and {h["status"] for h in seen} == {"degraded"}, seen
    assert len({h["streams"]["event"]["last_error"] for h in seen}) == 1
