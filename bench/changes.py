"""The changes feeds at LL2's size (#34): a new changes query over 10,000 launches and 1,500
events (tests/ll2size.py) whose log is full (5,000 changes over 30 days: moves, status
changes, webcasts, new items, removals), rendered as the view does it, warm (the snapshot
loaded and its catalog built, as after the first request of a data version).

Target: a new query renders in < 30 ms warm. Each run is a query not rendered before (the
render cache would answer a repeat), so nothing but the catalog is warm. Beside it, as the
baseline, the same selection's calendar (at most 2,000 items, its VEVENTs warm).

Usage: .venv/bin/python bench/changes.py [--runs 7]   (not a test; about a minute)
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from ll2_size import build_data_dir
from ll2size import drop_cache

from icalfeed.data.changes import MAX_KEPT, MOVED, NEW, REMOVED, STATUS, WEBCAST, Change, Dated
from icalfeed.data.snapshot import Snapshot
from icalfeed.data.store import Store
from icalfeed.feeds.changefeeds import render_changes
from icalfeed.feeds.changelog import FeedLinks
from icalfeed.feeds.feedcache import VeventCache
from icalfeed.feeds.output import render_feed
from icalfeed.feeds.query import EVERYTHING, FeedQuery
from icalfeed.feeds.select import feed_day
from icalfeed.ll2.models import Precision

QUERIES = [  # (label, query string): the first is what the builder links by default
    ("everything", ""),
    ("agency=spacex&rocket=falcon-9", "agency=spacex&rocket=falcon-9&include=launches"),
    ("program=artemis", "program=artemis"),
    ("type=docking (events)", "type=docking&include=events"),
    ("since 1957, both kinds", "start=1957-01-01"),
]
LINKS = FeedLinks(
    base="https://cal.example",
    atom="https://cal.example/changes.atom",
    json="https://cal.example/changes.json",
    home="https://cal.example/",
    calendar="https://cal.example/feed.ics",
)


def full_log(snapshot: Snapshot, now: datetime) -> Snapshot:
    """The snapshot with MAX_KEPT changes over the last 30 days, on items near now (where
    LL2's edits are), newest first."""
    rng = random.Random(34)
    near = sorted(snapshot.entries.values(), key=lambda e: abs(e.item.start - now))[:3000]
    changes = []
    for number in range(MAX_KEPT):
        entry = rng.choice(near)
        seen = now - timedelta(seconds=number * 30 * 86400 // MAX_KEPT)
        what = rng.choice((MOVED, MOVED, MOVED, STATUS, WEBCAST, NEW, REMOVED))
        dated = Dated(entry.item.start, entry.item.precision)
        if what == MOVED:
            was = Dated(entry.item.start - timedelta(days=rng.randint(1, 9)), Precision.DAY)
            changes.append(Change(entry.item.key, what, seen, was=was, now=dated))
        elif what == STATUS:
            changes.append(Change(entry.item.key, what, seen, before="TBD", after="Go"))
        elif what == WEBCAST:
            changes.append(Change(entry.item.key, what, seen, after="https://video.example/1"))
        else:
            changes.append(Change(entry.item.key, what, seen, now=dated))
    return replace(snapshot, changes=tuple(changes))


def timed(runs: int, render: Callable[[int], bytes]) -> list[float]:
    """Milliseconds of `runs` renders, each of a query not rendered before."""
    times = []
    for run in range(runs):
        started = time.perf_counter()
        render(run)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="icalfeed-changes-") as folder:
        settings = build_data_dir(Path(folder) / "var", now)
        drop_cache()
        snapshot = full_log(Store(settings).load(), now)
    assert snapshot.catalog  # built by the first request of a data version
    pieces = VeventCache()
    for entry in snapshot.ordered_entries:  # what Runtime.warm does after a load or a sync
        pieces.get(entry, ())
    day = feed_day(now)
    print(
        f"snapshot: {len(snapshot.entries):,} items, a log of {len(snapshot.changes):,} changes "
        f"over 30 days; median (worst) of {args.runs} new queries, warm, in ms\n"
    )
    header = f"{'selection':34} {'/changes.atom':>16} {'/changes.json':>16} {'calendar (.ics)':>17}"
    print(header + f" {'target':>8}\n" + "-" * (len(header) + 9))
    worst = 0.0
    for label, text in QUERIES:

        def query(run: int, text: str = text) -> FeedQuery:
            return FeedQuery.from_string(f"{text}&alarm={run + 1}", snapshot.catalog, EVERYTHING)

        cells = []
        for fmt in ("atom", "json"):
            times = timed(
                args.runs,
                lambda run, fmt=fmt: render_changes(fmt, snapshot, query(run), day, LINKS).body,
            )
            worst = max(worst, *times)
            cells.append(f"{statistics.median(times):7.1f} ({max(times):5.1f})")
        calendar = timed(
            args.runs,
            lambda run: render_feed("ics", snapshot, query(run), day, 2000, pieces.get).body,
        )
        cells.append(f"{statistics.median(calendar):8.1f} ({max(calendar):5.1f})")
        print(f"{label:34} {cells[0]:>16} {cells[1]:>16} {cells[2]:>17} {'< 30':>8}")
    print(f"\nworst changes render: {worst:.1f} ms ({'ok' if worst < 30 else 'MISSED'})")


if __name__ == "__main__":
    main()
