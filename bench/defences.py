"""The bare server's own defences (`make bench`), over real loopback sockets, one run:

(j) the trickle: 510 connections from 127.0.0.1 sending a request's headers a byte a second
    (and, apart, 510 silent ones); a new client from 127.0.0.2 asks for a feed every second
    for --seconds: how long its answers take, and how many never came (10 s timeout)
(k) the header flood: 4,000 cache hits of a small answer on one keep-alive connection, each
    with its own long Accept-Encoding: the server's RSS growth and the rate
(l) the cold-feed burst: 100 simultaneous requests (100 addresses) for one feed nobody asked
    for yet: their statuses, the renders it cost, the time until the last answer
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from serving import free_port, rss_mib, wait_up
from test_cache_bounds import SMALL, varied_encoding
from test_doorman import FEED, Trickle


def trickle_row(port: int, seconds: float, every: float) -> str:
    trickle = Trickle(port, 510, ["127.0.0.1"], every)
    waits, lost = [], 0
    try:
        time.sleep(1.0)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                with socket.create_connection(
                    ("127.0.0.1", port), timeout=10, source_address=("127.0.0.2", 0)
                ) as sock:
                    sock.sendall(
                        f"GET {FEED} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
                    )
                    while sock.recv(65536):
                        pass
                waits.append(time.monotonic() - started)
            except OSError:
                lost += 1
            time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
    finally:
        trickle.stop()
    if not waits:
        return f"no answer in {seconds:g} s ({lost} lost)"
    return (
        f"{len(waits)} answered, median {statistics.median(waits) * 1000:.0f} ms, "
        f"worst {max(waits) * 1000:.0f} ms, {lost} never answered"
    )


def header_flood_row(port: int, pid: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    rng = random.Random(7)
    for encoding in ("gzip", "identity"):
        connection.request("GET", SMALL, headers={"Accept-Encoding": encoding})
        connection.getresponse().read()
    before = rss_mib(pid)
    statuses: Counter[int] = Counter()
    started = time.monotonic()
    for _ in range(4000):
        connection.request("GET", SMALL, headers={"Accept-Encoding": varied_encoding(rng)})
        response = connection.getresponse()
        response.read()
        statuses[response.status] += 1
    took = time.monotonic() - started
    grown = rss_mib(pid) - before
    return f"RSS +{grown:.1f} MiB, {4000 / took:,.0f} req/s, statuses {dict(statuses)}"


def cold_burst_row(port: int) -> str:
    path = "/feed.ics?start=1957-01-01&alarm=17"
    barrier = threading.Barrier(100)
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    before = _renders(port)

    def ask(number: int) -> None:
        connection = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=30, source_address=(f"127.0.4.{number + 1}", 0)
        )
        barrier.wait(10)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            status = response.status
        except OSError:
            status = 0
        with lock:
            statuses[status] += 1

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(100)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    took = time.monotonic() - started
    renders = _renders(port) - before
    return (
        f"statuses {dict(statuses)}, {renders:g} render(s), last answer after {took * 1000:.0f} ms"
    )


def _renders(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    found = re.search(r'icalfeed_render_duration_seconds_count\{format="ics"\} (\S+)', text)
    return float(found.group(1)) if found else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="icalfeed-defences-"))
    env = {
        **os.environ,
        "ICALFEED_DATA_DIR": str(work / "var"),
        "ICALFEED_OFFLINE": "1",
        "ICALFEED_LOG_LEVEL": "WARNING",
        "ICALFEED_ACCESS_LOG": "0",
    }
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "icalfeed", "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_up(f"http://127.0.0.1:{port}/healthz")
        rows = {
            "(j) 510 trickling connections, a new client's feed": trickle_row(
                port, args.seconds, 1.0
            ),
            "(j) 510 silent connections, a new client's feed": trickle_row(port, args.seconds, 0.0),
            "(k) 4,000 hits, each its own Accept-Encoding": header_flood_row(port, server.pid),
            "(l) 100 simultaneous requests for one cold feed": cold_burst_row(port),
        }
    finally:
        server.terminate()
        server.wait(15)
        shutil.rmtree(work, ignore_errors=True)
    for name, row in rows.items():
        print(f"| {name} | {row} |")


if __name__ == "__main__":
    main()
