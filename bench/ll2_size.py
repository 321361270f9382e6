"""LL2's real size as the working size (#16, part 2): what 10,000 launches and 1,500 events
(tests/ll2size.py, LL2 2.3.0 detailed JSON made from the fixture records) cost here, each
number beside its target.

(a) RSS of an `icalfeed serve` process on a data dir holding that snapshot: once loaded (and
    its per-item pieces warmed), and after 10,000 mixed requests over loopback (feeds with
    many filters, .json, HEAD, conditional GETs, pages)                        < 250 MiB
(b) start-up: from starting `serve` on that data dir to the first feed served       < 2 s
(c) one page of 100 changed launches merged into the 11,500-item snapshot and saved, as a
    sync does it (`Snapshot.merge`, the stream state, `Store.commit`)          < 250 ms
(d) a new 2,000-item feed: warm (the per-item pieces built, as after the background warm)
    < 60 ms; cold (no piece built yet: right after a sync or a start)          < 1.5 s

The snapshot is built the way a finished backfill leaves it (every item merged, both
streams' backfill complete) and saved by `Store.commit`; the server runs offline with the
default settings, except that one loopback client stands for every subscriber, so its
per-client render budget is raised (the render lane and its queue stay as they are).

Usage: .venv/bin/python bench/ll2_size.py [--runs 5] [--requests 10000]   (not a test; a few
minutes)
"""

from __future__ import annotations

import argparse
import gc
import http.client
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from ll2size import big_events, big_launches, drop_cache

from icalfeed.base.config import Settings
from icalfeed.data.store import Store
from icalfeed.data.syncstate import Cursor
from icalfeed.feeds.feedcache import JsonCache, VeventCache
from icalfeed.feeds.output import render_feed
from icalfeed.feeds.query import FeedQuery
from icalfeed.feeds.select import feed_day
from icalfeed.ll2.models import Launch, parse_events, parse_launches

STAMP = "%Y-%m-%dT%H:%M:%SZ"
FIRST_FEED = "/feed.ics"  # what a new subscriber of everything asks first
TWO_THOUSAND = [  # (label, query): both are capped at ICALFEED_MAX_EVENTS (2,000)
    ("since 2022, both kinds", "start=2022-01-01&include=all"),
    ("everything (of 11,500)", "start=1957-01-01&include=all"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def memory_mib(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM: the peak RSS) of a process, MiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) / 1024
    return found["VmRSS"], found["VmHWM"]


def build_data_dir(folder: Path, now: datetime) -> Settings:
    """A data dir holding the whole data set, as a finished backfill leaves it."""
    settings = Settings(data_dir=folder, offline=True)
    settings.ensure_data_dir()
    store = Store(settings, clock=lambda: now)
    store.load()
    launches, events = parse_launches(big_launches(now)), parse_events(big_events(now))
    assert launches.skipped == events.skipped == 0
    snapshot = store.synced_base()
    for page in (events, launches):
        snapshot, _ = snapshot.merge(page.items, now)
        kind = page.items[0][0].kind
        newest = max(item.last_updated for item, _ in page.items if item.last_updated)
        snapshot = snapshot.with_sync(
            kind,
            changes=Cursor(newest.strftime(STAMP), done=True),
            backfill_complete=True,
            changes_at=now,
            reconciled_at=now,
            succeeded_at=now,
            audited_at=now,
        )
    store.commit(snapshot)
    return settings


def serve(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = {
        "PATH": "/usr/bin:/bin",
        "ICALFEED_DATA_DIR": str(settings.data_dir),
        "ICALFEED_OFFLINE": "1",
        "ICALFEED_LOG_LEVEL": "WARNING",
        "ICALFEED_ACCESS_LOG": "0",
        # One loopback client plays every subscriber: its render budget is theirs together.
        "ICALFEED_CLIENT_RENDER_BURST": "100000",
        "ICALFEED_CLIENT_RENDERS_PER_MINUTE": "100000",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "icalfeed", "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.DEVNULL,
    )


def first_feed(port: int, started: float, timeout: float = 60.0) -> float:
    """Seconds from `started` until FIRST_FEED answers 200."""
    while time.perf_counter() - started < timeout:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", FIRST_FEED)
            response = connection.getresponse()
            response.read()
            connection.close()
            if response.status == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.01)
    raise SystemExit(f"no feed from port {port} within {timeout:.0f} s")


def settled_rss(pid: int, quiet: float = 2.0, timeout: float = 90.0) -> tuple[float, float]:
    """RSS once the background warm (every item's VEVENT and JSON) is done: when it has
    not grown for `quiet` seconds."""
    last, since, start = memory_mib(pid), time.perf_counter(), time.perf_counter()
    while time.perf_counter() - start < timeout:
        time.sleep(0.25)
        now = memory_mib(pid)
        if now[0] > last[0] + 0.5:
            last, since = now, time.perf_counter()
        elif time.perf_counter() - since >= quiet:
            return now
    return memory_mib(pid)


def mixed_requests(now: datetime, count: int) -> list[tuple[str, str, bool]]:
    """(method, path, conditional) for `count` requests: mostly the feeds subscribers poll
    (asked again and again), a long tail of one-off queries, JSON, pages."""
    rng = random.Random(16)
    launches = big_launches(now)
    rockets = sorted({x["rocket"]["configuration"]["name"] for x in launches})
    agencies = sorted({x["launch_service_provider"]["abbrev"] for x in launches})
    pads = ["vandenberg", "kennedy", "baikonur", "plesetsk", "kourou", "starbase", "mahia"]
    polled = [
        "/events.ics",
        "/launches.ics",
        "/feed.ics",
        "/programs/artemis.ics?include=events,launches&start=2022-01-01",
        "/programs/starlink.ics?include=launches",
        "/programs/iss.ics",
        "/agencies/spacex.ics?include=all",
        "/launches.ics?rocket=falcon-9&status=go&alarm=60",
        "/launches.ics?agency=spacex&pad=vandenberg&vague=hide",
        "/types/docking.ics",
        "/events.ics?program=iss&type=docking,eva&alarm=30",
        "/feed.ics?start=1957-01-01",
        "/launches.ics?start=2022-01-01",
        "/events.json?program=artemis",
        "/launches.json?start=2025-01-01",
        "/feed.json?start=2024-01-01",
    ]
    pages = ["/", "/programs", "/agencies", "/types", "/widget?include=events,launches"]
    requests = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.70:
            path = rng.choice(polled)
        elif roll < 0.85:  # a one-off query: a year, a rocket, a pad, a search, an alarm
            year = rng.randrange(1957, now.year + 2)
            path = rng.choice(
                [
                    f"/launches.ics?start={year}-01-01&end={year}-12-31",
                    f"/launches.ics?rocket={rng.choice(rockets)}&start=1957-01-01",
                    f"/launches.ics?agency={rng.choice(agencies)}&start={year}-01-01",
                    f"/launches.ics?pad={rng.choice(pads)}&start={year}-01-01",
                    f"/feed.ics?search={rng.choice('aeiouknst')}&start={year}-01-01",
                    f"/feed.ics?alarm={rng.randrange(1, 10080)}",
                    f"/launches.json?start={year}-01-01&end={year}-12-31",
                ]
            )
        else:
            path = rng.choice(pages)
        method = "HEAD" if rng.random() < 0.1 else "GET"
        conditional = method == "GET" and path.split("?")[0].endswith(".ics") and rng.random() < 0.3
        requests.append((method, path.replace(" ", "%20"), conditional))
    return requests


def run_mixed(port: int, requests: list[tuple[str, str, bool]], clients: int = 2) -> Counter:
    """Send `requests` over `clients` keep-alive connections; the status codes seen."""
    statuses: Counter[int] = Counter()
    etags: dict[str, str] = {}
    lock = threading.Lock()

    def client(share: list[tuple[str, str, bool]]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for method, path, conditional in share:
            headers = {"Accept-Encoding": "gzip"} if len(path) % 2 else {}
            if conditional and path in etags:
                headers["If-None-Match"] = etags[path]
            connection.request(method, path, headers=headers)
            response = connection.getresponse()
            response.read()
            etag = response.getheader("ETag")
            with lock:
                statuses[response.status] += 1
                if etag and response.status == 200 and "Accept-Encoding" not in headers:
                    etags[path] = etag
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.close()

    threads = [
        threading.Thread(target=client, args=(requests[n::clients],)) for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def changed_page(now: datetime, number: int) -> list[dict]:
    """100 launches as LL2 sends them after an edit: recent and upcoming ones mostly, a
    third of them moved a day, the rest renamed or given a new status."""
    rng = random.Random(number)
    launches = big_launches(now)
    recent = [x for x in launches if x["net"] >= "2024"]
    page = []
    for offset, original in enumerate(rng.sample(recent, 100)):
        launch = dict(original)
        at = now + timedelta(minutes=10 * number + 5, seconds=offset)
        launch["last_updated"] = at.strftime(STAMP)
        if offset % 3 == 0:
            net = datetime.fromisoformat(launch["net"]) + timedelta(days=1)
            launch["net"] = launch["window_start"] = launch["window_end"] = net.strftime(STAMP)
        elif offset % 3 == 1:
            launch["name"] = f"{launch['name']} (run {number})"
        else:
            launch["status"] = {"id": 8, "name": "To Be Confirmed", "abbrev": "TBC"}
        page.append(launch)
    return page


def page_costs(
    settings: Settings, now: datetime, pages: list[list[dict]]
) -> list[dict[str, float]]:
    """Each page: parsing it (for reference), then what `_absorb` and `_walk` do with it."""
    clock = [now]
    store = Store(settings, clock=lambda: clock[0])
    store.load()
    results = []
    for number, page in enumerate(pages):
        clock[0] = now + timedelta(minutes=10 * (number + 1))
        started = time.perf_counter()
        parsed = parse_launches(page)
        parsed_at = time.perf_counter()
        snapshot = store.synced_base()
        snapshot, counts = snapshot.merge(parsed.items, clock[0])
        snapshot = snapshot.with_sync(Launch.kind, succeeded_at=clock[0])
        stamp = max(x["last_updated"] for x in page)
        snapshot = snapshot.with_sync(Launch.kind, changes=Cursor(stamp))
        merged_at = time.perf_counter()
        store.commit(snapshot)
        done = time.perf_counter()
        assert counts.changed == 100, counts
        results.append(
            {
                "parse": (parsed_at - started) * 1000,
                "merge": (merged_at - parsed_at) * 1000,
                "commit": (done - merged_at) * 1000,
                "total": (done - parsed_at) * 1000,
            }
        )
    return results


def load_costs(settings: Settings, runs: int) -> dict[str, list[float]]:
    """What a start-up spends before its first render, in this process: loading the
    snapshot (`Store.load`) and the catalog the first query is parsed against."""
    times: dict[str, list[float]] = {"load": [], "catalog": []}
    for _ in range(runs):
        started = time.perf_counter()
        snapshot = Store(settings).load()
        loaded = time.perf_counter()
        assert snapshot.catalog
        times["load"].append((loaded - started) * 1000)
        times["catalog"].append((time.perf_counter() - loaded) * 1000)
    return times


def render_costs(settings: Settings, runs: int) -> dict[str, list[float]]:
    """A new query of 2,000 items, as the view renders it: warm and cold pieces (the
    catalog built, as the first request of a data version does)."""
    snapshot = Store(settings).load()
    assert snapshot.catalog
    day = feed_day(datetime.now(UTC))
    warm_pieces, warm_json = VeventCache(), JsonCache()
    for entry in snapshot.ordered_entries:  # what Runtime.warm does after a load or a sync
        warm_pieces.get(entry, ())
        warm_json.get(entry)
    times: dict[str, list[float]] = {}
    for label, text in TWO_THOUSAND:
        for kind in ("warm", "cold", "warm json"):
            row = times.setdefault(f"{kind:9} {label}", [])
            for run in range(runs):
                fmt = "json" if kind == "warm json" else "ics"
                pieces = warm_pieces if kind != "cold" else VeventCache()
                fragments = warm_json if kind != "cold" else JsonCache()
                started = time.perf_counter()
                query = FeedQuery.from_string(f"{text}&alarm={run + 1}", snapshot.catalog)
                feed = render_feed(fmt, snapshot, query, day, 2000, pieces.get, fragments.get)
                row.append((time.perf_counter() - started) * 1000)
                assert feed.body.count(b"BEGIN:VEVENT") == 2000 or fmt == "json"
    return times


def line(name: str, values: list[float], unit: str = "ms", limit: float | None = None) -> str:
    """One row: median and worst of `values`, the target and whether it was met."""
    median, worst = statistics.median(values), max(values)
    target, verdict = "", ""
    if limit is not None:
        target = f"< {limit:g}"
        verdict = "ok" if worst < limit else "MISSED" if median >= limit else "MISSED (worst)"
    return f"{name:44} {median:9.1f} {worst:9.1f} {unit:4} {target:>10}  {verdict}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="icalfeed-ll2size-") as folder:
        measure(args, Path(folder) / "var")


def measure(args: argparse.Namespace, data_dir: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    settings = build_data_dir(data_dir, now)
    size = (settings.data_dir / "snapshot.json").stat().st_size / 2**20
    print(
        f"data dir: {len(big_launches(now))} launches, {len(big_events(now))} events, "
        f"snapshot.json {size:.1f} MiB (built in {time.perf_counter() - started:.1f} s)"
    )

    # (b) start-up, several fresh processes; the first one then serves (a).
    startups, loaded, after = [], (0.0, 0.0), (0.0, 0.0)
    statuses: Counter[int] = Counter()
    mixed_seconds = 0.0
    for run in range(args.runs):
        port = free_port()
        started = time.perf_counter()
        server = serve(settings, port)
        try:
            startups.append(first_feed(port, started) * 1000)
            if run == 0:
                loaded = settled_rss(server.pid)
                requests = mixed_requests(now, args.requests)
                began = time.perf_counter()
                statuses = run_mixed(port, requests)
                mixed_seconds = time.perf_counter() - began
                after = memory_mib(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    # The rest is timed in this process, as the server would do it: without the generated
    # LL2 objects.
    changed = [changed_page(now, number) for number in range(args.runs + 2)]
    drop_cache()
    gc.collect()
    loading = load_costs(settings, args.runs)
    # (c) pages of changes, one after another into the same store.
    pages = page_costs(settings, now, changed)
    rows = [
        line("(a) RSS once loaded and warmed (VmRSS)", [loaded[0]], "MiB", 250),
        line(f"(a) RSS after {args.requests:,} mixed requests", [after[0]], "MiB", 250),
        line("(a) peak RSS of the process (VmHWM)", [after[1]], "MiB", 250),
        line("(b) start-up to the first feed served", startups, "ms", 2000),
        line("      of which Store.load (in-process)", loading["load"]),
        line("      of which the catalog (first query)", loading["catalog"]),
        line("(c) merge + commit, 100 changes", [p["total"] for p in pages], "ms", 250),
        line("      of which merge (+ stream state)", [p["merge"] for p in pages]),
        line("      of which Store.commit", [p["commit"] for p in pages]),
        line("      (parsing the page, before)", [p["parse"] for p in pages]),
    ]
    # (d) renders.
    for name, values in render_costs(settings, args.runs).items():
        limit = None if "json" in name else 1500 if name.startswith("cold") else 60
        rows.append(line(f"(d) {name}", values, "ms", limit))

    print(f"\n{'measurement':44} {'median':>9} {'worst':>9} {'':4} {'target':>10}")
    print("\n".join(rows))
    print(
        f"\n(a) {args.requests:,} requests in {mixed_seconds:.1f} s over 2 keep-alive "
        f"connections: {dict(sorted(statuses.items()))}"
    )
    print(f"(b) {len(startups)} starts; (c) {len(pages)} pages; (d) {args.runs} renders each")


if __name__ == "__main__":
    main()
