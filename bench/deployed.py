"""Performance as deployed (`make bench`): a cached feed of 1,200 events through the shipped
nginx configuration (deploy/nginx, proxy_cache) against nginx serving the same bytes as a
static file, and the bare server (`icalfeed serve`, no proxy) for those who run without one.

One run, loopback only: Debian's wrk over 16 connections for --seconds per row, the median
of --repeats. nginx, the app and wrk share this machine's cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from nginxtools import NGINX, running_nginx
from serving import free_port, synthetic, wait_up, wrk

from icalfeed.data.store import write_snapshot

EVENTS = 1200
FEED = "/events.ics?start=1957-01-01"
CONNECTIONS = 16  # under the shipped limit_conn of 32 per address


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("wrk") or NGINX is None:
        raise SystemExit("needs wrk and nginx (apt-get install wrk nginx)")
    work = Path(tempfile.mkdtemp(prefix="icalfeed-deployed-"))
    (work / "var").mkdir()
    write_snapshot(work / "var" / "snapshot.json", synthetic(EVENTS))
    env = {
        **os.environ,
        "ICALFEED_DATA_DIR": str(work / "var"),
        "ICALFEED_OFFLINE": "1",
        "ICALFEED_LOG_LEVEL": "WARNING",
        "ICALFEED_ACCESS_LOG": "0",
        "ICALFEED_TRUSTED_PROXIES": "127.0.0.1",
    }
    port, static_port = free_port(), free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "icalfeed", "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        bare = f"http://127.0.0.1:{port}"
        wait_up(bare + "/healthz")
        with urllib.request.urlopen(bare + FEED, timeout=60) as response:
            body = response.read()
        (work / "static").mkdir()
        (work / "static" / "feed.ics").write_bytes(body)
        static = (
            f"server {{\n    listen 127.0.0.1:{static_port};\n"
            f"    location / {{ root {work / 'static'}; }}\n}}\n"
        )
        with running_nginx(work / "nginx", [port], extra=static) as (proxy_port, _):
            proxied = f"http://127.0.0.1:{proxy_port}{FEED}"
            for _ in range(2):  # a miss, then cached
                with urllib.request.urlopen(proxied, timeout=60) as response:
                    assert response.read() == body
            with urllib.request.urlopen(proxied, timeout=60) as response:
                assert response.headers["X-Cache-Status"] == "HIT", response.headers
            rows = {
                "nginx static file (same bytes)": f"http://127.0.0.1:{static_port}/feed.ics",
                "nginx + shipped config, cached feed": proxied,
                "bare icalfeed serve, cached feed": bare + FEED,
            }
            results = {
                name: [wrk(url, args.seconds, connections=CONNECTIONS) for _ in range(args.repeats)]
                for name, url in rows.items()
            }
    finally:
        server.terminate()
        server.wait(15)
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nA cached feed of {EVENTS} events ({len(body) / 1024:.0f} KiB), wrk -c{CONNECTIONS}")
    print("| | req/s | p50 ms | p99 ms | errors | vs static |")
    print("|---|---|---|---|---|---|")
    static_rps = statistics.median(r["rps"] for r in results["nginx static file (same bytes)"])
    for name, runs in results.items():
        rps = statistics.median(r["rps"] for r in runs)
        p50 = statistics.median(r["p50"] for r in runs)
        p99 = statistics.median(r["p99"] for r in runs)
        errors = sum(r["errors"] for r in runs)
        ratio = rps / static_rps
        print(f"| {name} | {rps:,.0f} | {p50:.1f} | {p99:.1f} | {errors:.0f} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
