"""Cold render time of the largest fixture feeds (every sample event, every launch, both
together), ICS and JSON.

Usage: .venv/bin/python bench/render.py [repeats]
Prints min / median milliseconds; not a test.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime

from icalfeed.data.store import load_sample
from icalfeed.feeds.output import render_feed
from icalfeed.feeds.query import FeedQuery


def main(repeats: int = 20) -> None:
    sample = load_sample()
    day = datetime(2026, 11, 25, tzinfo=UTC)
    for include in ("events", "launches", "events,launches"):
        query = FeedQuery.from_string(f"start=1957-01-01&include={include}", sample.catalog)
        for fmt in ("ics", "json"):
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                feed = render_feed(fmt, sample, query, day, 2000)
                times.append((time.perf_counter() - started) * 1000)
            print(
                f"{include:>15} {fmt:>4}: {sample.count('event')} events, "
                f"{sample.count('launch')} launches, {len(feed.body) // 1024} KiB, "
                f"min {min(times):.1f} ms, median {statistics.median(times):.1f} ms"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
