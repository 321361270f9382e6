"""Soak test: mixed feed traffic against a real `icalfeed serve` while the (fake, loopback)
upstream misbehaves.  Reports 5xx count, latency percentiles and the server's RSS over time.

Usage: .venv/bin/python bench/soak.py [--seconds 600] [--clients 4] [--fault-rate 0.3]
Everything stays on 127.0.0.1 and stops by itself.  Not part of `make test`.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fake_ll2 import FakeLL2, Fault  # noqa: E402
from ll2data import upstream_events  # noqa: E402

PATHS = [
    "/events.ics",
    "/events.ics?start=1957-01-01",
    "/events.ics?type=docking,eva&start=2019-01-01",
    "/events.ics?program=spacex-starship&vague=hide&start=2019-01-01",
    "/programs/international-space-station.ics?alarm=15",
    "/agencies/nasa.ics",
    "/types/static-fire.ics?start=2019-01-01",
    "/events.json?start=2020-01-01",
    "/widget?type=flyby",
    "/",
    "/programs",
    "/healthz",
]
FAULTS = [
    Fault(500),
    Fault(502),
    Fault(503, headers={"Retry-After": "5"}),
    Fault(429, b'{"detail":"Request was throttled. Expected available in 5 seconds."}'),
    Fault(200, b'{"count": 5, "results": [{"id": 1'),
    Fault(200, b"<html>maintenance</html>", {"Content-Type": "text/html"}),
    Fault(delay=6.0),
    Fault(close=True),
]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--fault-rate", type=float, default=0.3)
    args = parser.parse_args()

    fake = FakeLL2(upstream_events()).start()
    rng = random.Random(7)

    def maybe_fault(_seen: object) -> None:
        if rng.random() < args.fault_rate:
            fake.fail_next(rng.choice(FAULTS))

    fake.on_request = maybe_fault
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="icalfeed-soak-")
    env = {
        **os.environ,
        "ICALFEED_UPSTREAM_URL": fake.base_url,
        "ICALFEED_DATA_DIR": data_dir,
        "ICALFEED_API_KEY": "soak-test-key",  # lifts the free-tier guard for a faster cycle
        "ICALFEED_REQUESTS_PER_HOUR": "600",
        "ICALFEED_SYNC_TICK_SECONDS": "3",
        "ICALFEED_INCREMENTAL_MINUTES": "1",
        "ICALFEED_RECONCILE_MINUTES": "2",
        "ICALFEED_READ_TIMEOUT": "3",
        "ICALFEED_LOG_LEVEL": "WARNING",
    }
    log = open(Path(data_dir) / "server.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "icalfeed", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        for path in PATHS:  # warm up: every feed rendered once
            urllib.request.urlopen(base + path, timeout=30).read()

        latencies: list[float] = []
        statuses: dict[int, int] = {}
        errors: list[str] = []
        lock = threading.Lock()
        deadline = time.monotonic() + args.seconds
        rss_samples = [(0.0, rss_kib(server.pid))]
        etags: dict[str, str] = {}

        def client(seed: int) -> None:
            local = random.Random(seed)
            while time.monotonic() < deadline:
                path = local.choice(PATHS)
                headers = {}
                if path in etags and local.random() < 0.5:
                    headers["If-None-Match"] = etags[path]
                request = urllib.request.Request(base + path, headers=headers)
                started = time.perf_counter()
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        response.read()
                        status = response.status
                        if response.headers.get("ETag"):
                            etags[path] = response.headers["ETag"]
                except urllib.error.HTTPError as error:
                    status = error.code
                except OSError as error:
                    status = 0
                    with lock:
                        errors.append(repr(error))
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    statuses[status] = statuses.get(status, 0) + 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads):
            time.sleep(min(30, max(0.1, deadline - time.monotonic())))
            rss_samples.append((time.monotonic() - started, rss_kib(server.pid)))
        for thread in threads:
            thread.join()
        health = urllib.request.urlopen(base + "/healthz", timeout=10).read().decode()

    finally:  # never leave a server behind, whatever failed
        server.terminate()
        server.wait(10)
        fake.stop()

    ordered = sorted(latencies)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    fivexx = sum(n for s, n in statuses.items() if s >= 500)
    print(f"duration            {args.seconds:.0f} s, {args.clients} clients")
    print(f"requests            {len(latencies)} ({len(latencies) / args.seconds:.0f}/s)")
    print(f"statuses            {dict(sorted(statuses.items()))}")
    print(f"5xx                 {fivexx}")
    print(f"connection errors   {len(errors)}")
    print(
        f"latency ms          p50 {p(0.5):.1f}  p90 {p(0.9):.1f}  p99 {p(0.99):.1f}  "
        f"max {ordered[-1] * 1000:.1f}  mean {statistics.mean(ordered) * 1000:.1f}"
    )
    print(f"upstream requests   {len(fake.requests)} (faults injected at rate {args.fault_rate})")
    print(
        f"RSS KiB             start {rss_samples[0][1]}  end {rss_samples[-1][1]}  "
        f"max {max(r for _, r in rss_samples)}"
    )
    print("RSS over time       " + ", ".join(f"{t:.0f}s:{r}" for t, r in rss_samples))
    print(f"final /healthz      {health}")


if __name__ == "__main__":
    main()
