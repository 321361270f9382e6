"""What a new query costs once the per-item pieces are warm: 1,000 items (800 events, 200
launches), every kind of parameter, ICS and JSON. A flood of unique URLs pays exactly this
per request, so the worst row is the number that matters.

Usage: .venv/bin/python bench/warm_queries.py [repeats]      (not a test)
"""

from __future__ import annotations

import copy
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from ll2data import rebased_launches

from icalfeed.data.snapshot import Snapshot
from icalfeed.data.store import load_sample
from icalfeed.feeds.feedcache import JsonCache, VeventCache
from icalfeed.feeds.output import render_feed
from icalfeed.feeds.query import FeedQuery
from icalfeed.ll2.models import parse_events, parse_launches

DAY = datetime(2026, 11, 25, tzinfo=UTC)
QUERIES = [
    ("ics", "start=1957-01-01"),
    ("ics", "start=1957-01-01&alarm=17"),
    ("ics", "start=1957-01-01&alarm=5,60,1439"),
    ("ics", "start=1957-01-01&include=events,launches"),
    ("ics", "start=1957-01-01&include=events,launches&alarm=33,77"),
    ("ics", "start=1957-01-01&include=launches&vague=hide"),
    ("ics", "start=1957-01-01&search=a"),
    ("ics", "start=1957-01-01&end=2026-03-04T05:06:07Z"),
    ("ics", "start=2019-01-01&location=a&webcast=0"),
    ("json", "start=1957-01-01"),
    ("json", "start=1957-01-01&include=events,launches&alarm=9"),
]


def thousand_items() -> Snapshot:
    records = [dict(e.record) for e in load_sample().ordered_entries if e.kind == "event"]
    events = []
    for number in range(800):
        record = copy.deepcopy(records[number % len(records)])
        record["id"] = 2_000_000 + number
        record["date"] = (DAY + timedelta(hours=number * 7 - 2000)).strftime("%Y-%m-%dT%H:%M:%SZ")
        events.append(record)
    launches = []
    for number in range(200):
        launch = copy.deepcopy(rebased_launches(DAY)[number % 13])
        launch["id"] = f"{number:08x}" + launch["id"][8:]
        launches.append(launch)
    snapshot, _ = Snapshot({}).merge(parse_events(events).items, DAY)
    snapshot, _ = snapshot.merge(parse_launches(launches).items, DAY)
    return snapshot


def main(repeats: int = 20) -> None:
    snapshot = thousand_items()
    vevents, fragments = VeventCache(), JsonCache()
    for entry in snapshot.ordered_entries:  # as the server warms after every sync
        vevents.get(entry, ())
        fragments.get(entry)
    print(f"{len(snapshot.entries)} items, pieces warm; new query each time (min / median ms)")
    worst = (0.0, "")
    for fmt, text in QUERIES:
        query = FeedQuery.from_string(text, snapshot.catalog)
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            render_feed(fmt, snapshot, query, DAY, 5000, vevents.get, fragments.get)
            times.append((time.perf_counter() - started) * 1000)
        worst = max(worst, (statistics.median(times), f"{fmt} {text}"))
        print(f"  {fmt:4} {text:58} {min(times):6.1f} {statistics.median(times):6.1f}")
    print(f"worst median: {worst[0]:.1f} ms ({worst[1]})   target <= 30 ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
