"""Serving benchmark (`make bench`): one run, loopback only, prints a table and ratios.

(a) floor: bare WSGI app under waitress returning the bytes of the large feed
(b) cached /events.ics for the same feed          (c) the 304 path (If-None-Match)
(d) /events.json for the same selection           (e) cold renders of 100, 1,000, 3,000 events
(f) server RSS after loading the fixture history, and after 10,000 mixed requests
(g) the cached feed over 8 connections, idle     (h) the same while bench/flood.lua sends
    unique queries (alarm, search, start/end, include) over 32 more: req/s, p50/p99, and the
    flood's own status mix     (i) the same with a flood that opens a new connection for
    every request (Connection: close), which no per-connection tarpit slows

Load comes from Debian's `wrk` in its own process, bounded by --seconds per measurement.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from icalfeed.data.snapshot import Snapshot
from icalfeed.data.store import load_sample
from icalfeed.feeds.feedcache import VeventCache
from icalfeed.feeds.output import render_feed
from icalfeed.feeds.query import FeedQuery
from icalfeed.ll2.models import parse_events

ROOT = Path(__file__).resolve().parents[1]
FLOOD = ROOT / "bench" / "flood.lua"
LARGE = "/events.ics?start=1957-01-01"
MIXED = [
    LARGE,
    "/events.ics",
    "/events.ics?type=docking,eva&start=2019-01-01",
    "/programs/spacex-starship.ics?start=2019-01-01",
    "/agencies/nasa.ics",
    "/events.json?start=2020-01-01",
    "/widget?type=flyby",
    "/",
    "/healthz",
]
DAY = datetime(2026, 11, 25, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_up(url: str) -> None:
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server at {url} did not start")


def wrk(
    url: str,
    seconds: float,
    headers: dict[str, str] | None = None,
    connections: int = 32,
) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", url]
    for name, value in (headers or {}).items():
        command[1:1] = ["-H", f"{name}: {value}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return _parsed(out)


def flood(base: str, seconds: float, reconnect: bool = False) -> subprocess.Popen[str]:
    """Unique queries over 32 connections (bench/flood.lua), started in the background;
    with `reconnect` each request on a new connection."""
    command = ["wrk", "-t2", "-c32", f"-d{seconds:g}s", "--latency", "-s", str(FLOOD), base]
    if reconnect:
        command += ["--", "close"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def flood_mix(process: subprocess.Popen[str]) -> str:
    out, _ = process.communicate(timeout=120)
    row = _parsed(out)
    mix = re.search(r"FLOOD (.*)", out)
    return f"{row['rps']:.0f} req/s, p99 {row['p99']:.0f} ms; " + (mix.group(1) if mix else out)


def _parsed(out: str) -> dict[str, float]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def latency(percent: str) -> float:
        value, unit = re.search(rf"\s{percent}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": rps,
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": float(non2xx.group(1)) if non2xx else 0.0,
    }


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def synthetic(count: int) -> Snapshot:
    """`count` events made from the fixture events (new ids, dates spread over 2019-2027)."""
    records = [dict(e.record) for e in load_sample().ordered_entries]
    made = []
    for number in range(count):
        record = copy.deepcopy(records[number % len(records)])
        record["id"] = 1_000_000 + number
        when = datetime(2019, 1, 1, tzinfo=UTC) + timedelta(hours=number * 23)
        record["date"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        record["last_updated"] = "2026-11-01T00:00:00Z"
        made.append(record)
    snapshot, _ = Snapshot({}).merge(parse_events(made).items, DAY)
    return snapshot


def cold_renders(repeats: int) -> list[tuple[int, float, float, int]]:
    """(events, fully cold ms, warm-VEVENT ms, bytes) for each size."""
    results = []
    for count in (100, 1000, 3000):
        snapshot = synthetic(count)
        query = FeedQuery.from_string("start=1957-01-01", snapshot.catalog)
        cold, warm = [], []
        size = 0
        for _ in range(repeats):
            pieces = VeventCache()
            started = time.perf_counter()
            feed = render_feed("ics", snapshot, query, DAY, 5000, pieces.get)
            cold.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            render_feed("ics", snapshot, query, DAY, 5000, pieces.get)
            warm.append((time.perf_counter() - started) * 1000)
            size = len(feed.body)
        results.append((count, min(cold), min(warm), size))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    work = Path(tempfile.mkdtemp(prefix="icalfeed-bench-"))
    env = {**os.environ, "ICALFEED_DATA_DIR": str(work / "var"), "ICALFEED_OFFLINE": "1"}
    env["ICALFEED_LOG_LEVEL"] = "WARNING"
    port, floor_port = free_port(), free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "icalfeed", "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    floor = None
    try:
        wait_up(base + "/healthz")
        rss_loaded = rss_mib(server.pid)
        with urllib.request.urlopen(base + LARGE, timeout=30) as response:
            body, etag = response.read(), response.headers["ETag"]
        (work / "large.ics").write_bytes(body)
        floor = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "floor.py"),
                str(floor_port),
                str(work / "large.ics"),
            ]
        )
        wait_up(f"http://127.0.0.1:{floor_port}/")
        idle = wrk(base + LARGE, args.seconds, connections=8)
        flooding = flood(base, args.seconds + 2)
        time.sleep(1)
        under_flood = wrk(base + LARGE, args.seconds, connections=8)
        mix = flood_mix(flooding)
        rss_flood = rss_mib(server.pid)
        time.sleep(1)
        flooding = flood(base, args.seconds + 2, reconnect=True)
        time.sleep(1)
        under_reconnecting = wrk(base + LARGE, args.seconds, connections=8)
        reconnecting_mix = flood_mix(flooding)
        rows = {
            "(g) cached feed, 8 conns, idle": idle,
            "(h) the same during a flood": under_flood,
            "(i) the same, flood reconnecting": under_reconnecting,
            "(a) floor: bare WSGI, same bytes": wrk(
                f"http://127.0.0.1:{floor_port}/", args.seconds
            ),
            "(b) cached /events.ics": wrk(base + LARGE, args.seconds),
            "(c) 304 with If-None-Match": wrk(base + LARGE, args.seconds, {"If-None-Match": etag}),
            "(d) /events.json": wrk(base + "/events.json?start=1957-01-01", args.seconds),
        }
        refused = 0
        for number in range(10_000):
            try:
                urllib.request.urlopen(base + MIXED[number % len(MIXED)], timeout=30).read()
            except urllib.error.HTTPError as error:  # pages are admitted like new queries
                if error.code not in (429, 503):
                    raise
                refused += 1
        rss_mixed = rss_mib(server.pid)
    finally:
        server.terminate()
        if floor:
            floor.terminate()
    print(f"large feed: {LARGE} = {len(body) // 1024} KiB, {body.count(b'BEGIN:VEVENT')} events")
    print(f"{'measurement':36} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx/3xx':>11}")
    for name, row in rows.items():
        print(
            f"{name:36} {row['rps']:9.0f} {row['p50']:8.2f} {row['p99']:8.2f} {row['errors']:11.0f}"
        )
    kept = under_flood["rps"] / idle["rps"]
    print(f"(h)/(g) = {kept:.0%} of idle throughput, p99 {under_flood['p99']:.1f} ms under flood")
    print("    targets: >= 50 %, p99 <= 50 ms")
    print(f"    the flood (32 conns of unique queries): {mix}")
    kept = under_reconnecting["rps"] / idle["rps"]
    print(f"(i)/(g) = {kept:.0%}, p99 {under_reconnecting['p99']:.1f} ms under a flood that")
    print(f"    reconnects for every request: {reconnecting_mix}")
    print(f"    server RSS after the flood: {rss_flood:.1f} MiB")
    floor_rps = rows["(a) floor: bare WSGI, same bytes"]["rps"]
    cached = rows["(b) cached /events.ics"]["rps"] / floor_rps
    not_modified = rows["(c) 304 with If-None-Match"]["rps"] / floor_rps
    print(f"ratio (b)/(a) = {cached:.0%}   target >= 80%")
    print(f"ratio (c)/(a) = {not_modified:.0%}   target >= 90%")
    print("(e) cold render, ICS (min of repeats):")
    for count, cold, warm, size in cold_renders(args.repeats):
        print(
            f"    {count:5} events  {size // 1024:5} KiB  fully cold {cold:7.1f} ms   "
            f"VEVENTs cached {warm:6.1f} ms"
        )
    print(
        f"(f) RSS: {rss_loaded:.1f} MiB after loading the fixture history, "
        f"{rss_mixed:.1f} MiB after 10,000 mixed requests ({refused} pages refused: one "
        "client asking for pages nonstop)   target < 150 MiB"
    )


if __name__ == "__main__":
    main()
