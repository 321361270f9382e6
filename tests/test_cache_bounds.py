"""The caches are bounded by what they hold, keys included: thousands of cache hits with
headers spelled every which way cost no memory to speak of."""

from __future__ import annotations

import http.client
import random
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest
from servers import serve_offline
from werkzeug.http import parse_accept_header

from icalfeed.base.segmented import SegmentedCache, footprint
from icalfeed.feeds.freshness import AnswerDates

SMALL = "/events.json?search=no-such-event-anywhere"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def varied_encoding(rng: random.Random) -> str:
    """An Accept-Encoding as odd clients (and floods) spell it: long, unique, mostly gzip."""
    junk = "".join(rng.choices(string.ascii_lowercase, k=rng.randrange(2_000, 8_000)))
    return rng.choice(["gzip, deflate", "br;q=1.0, gzip;q=0.8", "identity", "*"]) + f", x-{junk}"


@pytest.fixture
def server(tmp_path):
    process, port, _ = serve_offline(tmp_path)
    try:
        yield process, port
    finally:
        process.terminate()
        process.wait(15)


def test_thousands_of_hits_with_varied_accept_encoding_hold_memory(server):
    process, port = server
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    rng = random.Random(7)

    def ask(encoding: str) -> tuple[int, str | None]:
        connection.request("GET", SMALL, headers={"Accept-Encoding": encoding})
        response = connection.getresponse()
        response.read()
        return response.status, response.headers.get("Content-Encoding")

    for encoding in ("gzip", "identity"):  # rendered once each, then stored
        assert ask(encoding)[0] == 200
    before = rss_mib(process.pid)
    statuses = set()
    for _ in range(4000):
        encoding = varied_encoding(rng)
        status, coding = ask(encoding)
        statuses.add(status)
        # The answer is the one this header asks for, whatever its spelling.
        assert (coding == "gzip") == (parse_accept_header(encoding)["gzip"] > 0), encoding[:40]
    grown = rss_mib(process.pid) - before
    assert statuses == {200}  # all answered from the stored answers: no 429 on the way
    assert grown < 16, f"grew {grown:.1f} MiB over 4,000 hits"


def test_a_key_is_charged_to_the_cache_like_its_value():
    cache: SegmentedCache[bytes] = SegmentedCache(1_000_000, len)
    for number in range(1000):
        cache.put(("/events.ics", f"search={number}-" + "x" * 10_000), b"tiny")
    assert cache.held_bytes <= 1_000_000
    assert len(cache) < 100  # the long keys are what fills it
    assert footprint(("a", b"bc")) > footprint("abc")


def test_remembered_answer_dates_are_bounded_by_bytes():
    dates = AnswerDates(max_bytes=200_000)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    for number in range(2000):
        dates.last_modified(("ics", "search=" + "y" * 5_000 + str(number), 2000), '"e"', now, now)
    assert dates._last.currsize <= 200_000 and len(dates._last) < 50
