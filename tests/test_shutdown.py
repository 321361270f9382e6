"""A graceful stop (#15): SIGTERM or SIGINT under load → no new connections, every response
in flight finished whole, the sync thread stopped, the Redis lease given back, exit 0."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from ports import free_ports
from redistools import needs_redis, running_redis

FEED = "/events.ics?start=1957-01-01"


def start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[str]:
    """A server whose stderr (its log and access log) goes to `log`: a pipe nobody reads
    would fill up and block it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "icalfeed", "serve", "--port", str(port)],
        env={**os.environ, "ICALFEED_LOG_LEVEL": "INFO", **env},
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", FEED)
            if connection.getresponse().read():
                return process
        except (OSError, http.client.HTTPException):
            time.sleep(0.1)
    process.kill()
    raise AssertionError(log.read_text()[-2000:])


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_under_load_finishes_every_response_and_exits_0(tmp_path, number):
    (port,) = free_ports(1)
    log_path = tmp_path / "server.log"
    env = {"ICALFEED_DATA_DIR": str(tmp_path / "var"), "ICALFEED_OFFLINE": "1"}
    process = start(env, port, log_path)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + 2.5

    def client() -> None:
        connection = None
        while time.monotonic() < stop_at:  # bounded in time
            try:
                connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("GET", FEED)
                response = connection.getresponse()
                body = response.read()  # IncompleteRead if an answer were cut short
                whole = len(body) == int(response.getheader("Content-Length"))
                outcome = f"{response.status}" if whole else "truncated"
                if response.getheader("Connection") == "close":
                    connection.close()
                    connection = None
            except http.client.IncompleteRead:
                outcome, connection = "truncated", None
            except ConnectionRefusedError:
                outcome, connection = "refused", None  # after the stop: the door is closed
                time.sleep(0.05)
            except (OSError, http.client.HTTPException):
                outcome, connection = "dropped", None  # a request the server never read
                time.sleep(0.05)
            with lock:
                outcomes[outcome] += 1

    clients = [threading.Thread(target=client) for _ in range(6)]
    for thread in clients:
        thread.start()
    time.sleep(1.0)
    stopped = time.monotonic()
    process.send_signal(number)
    code = process.wait(15)
    took = time.monotonic() - stopped
    for thread in clients:
        thread.join(15)
    log = log_path.read_text()
    assert code == 0, log[-2000:]
    assert took < 11  # the drain is bounded (10 s)
    assert outcomes["truncated"] == 0, outcomes
    assert outcomes["200"] > 50 and outcomes["refused"] > 0, outcomes
    assert outcomes["dropped"] <= 3, outcomes  # at most the rare accept race
    assert "stopped in" in log


@needs_redis
def test_a_stopped_leader_gives_the_lease_back_at_once(tmp_path, fake_ll2):
    from icalfeed.data import redisstate

    (port,) = free_ports(1)
    with running_redis(tmp_path) as (url, _):
        client = redisstate.connect(url)
        process = start(
            {
                "ICALFEED_DATA_DIR": str(tmp_path / "var"),
                "ICALFEED_UPSTREAM_URL": fake_ll2.base_url,
                "ICALFEED_REDIS_URL": url,
                "ICALFEED_SYNC_TICK_SECONDS": "1",
                "ICALFEED_LEASE_SECONDS": "60",
            },
            port,
            tmp_path / "server.log",
        )
        deadline = time.monotonic() + 20
        while client.get("icalfeed:leader") is None and time.monotonic() < deadline:
            time.sleep(0.1)
        holder = client.get("icalfeed:leader")
        assert holder is not None and f":{process.pid}:".encode() in holder
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
        assert client.get("icalfeed:leader") is None  # not 60 s later: now
