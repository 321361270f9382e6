"""One render per cold feed, however many ask for it at once."""

from __future__ import annotations

import http.client
import re
import threading
import time
import urllib.request
from datetime import UTC, datetime

import pytest
from servers import serve_offline

from icalfeed.feeds.feedcache import FeedCache
from icalfeed.feeds.output import Rendered
from icalfeed.serving.admission import Refused


def test_concurrent_misses_for_one_feed_wait_for_the_render_already_running():
    cache = FeedCache()
    started, release = threading.Event(), threading.Event()
    calls = []

    def render() -> Rendered:
        calls.append(1)
        started.set()
        release.wait(5)
        return Rendered(b"BEGIN:VCALENDAR", datetime(2026, 1, 1, tzinfo=UTC), "feed.ics")

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get("k", render))) for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    assert started.wait(5)
    time.sleep(0.2)
    release.set()
    for thread in threads:
        thread.join(5)
    assert len(calls) == 1 and len(results) == 20 and len({id(r) for r in results}) == 1
    assert cache.renders == 1 and cache.followed == 19


def test_a_follower_renders_itself_when_the_leaders_render_was_refused():
    cache = FeedCache()
    started, release = threading.Event(), threading.Event()

    def refused() -> Rendered:
        started.set()
        release.wait(5)
        raise Refused(429, 5, "over budget")

    outcome = []
    own = Rendered(b"own", datetime(2026, 1, 1, tzinfo=UTC), "own.ics")

    def lead() -> None:
        try:
            cache.get("k", refused)
        except Refused as exc:
            outcome.append(exc.status)

    leader = threading.Thread(target=lead)
    leader.start()
    assert started.wait(5)
    follower_result = []
    follower = threading.Thread(
        target=lambda: follower_result.append(cache.get("k", lambda: own)),
    )
    follower.start()
    time.sleep(0.2)
    release.set()
    leader.join(5)
    follower.join(5)
    assert outcome == [429] and follower_result == [own]


@pytest.fixture
def server(tmp_path):
    process, port, _log = serve_offline(tmp_path)
    try:
        yield port
    finally:
        process.terminate()
        process.wait(15)


def test_a_hundred_simultaneous_requests_for_one_cold_feed_are_all_answered_by_one_render(server):
    port = server
    path = "/feed.ics?start=1957-01-01"
    barrier = threading.Barrier(100)
    statuses: list[int] = []

    def ask(number: int) -> None:
        connection = http.client.HTTPConnection(
            "127.0.0.1", port, timeout=30, source_address=(f"127.0.3.{number + 1}", 0)
        )
        barrier.wait(10)
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        statuses.append(response.status)
        connection.close()

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses == [200] * 100, sorted(set(statuses))
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    renders = re.search(r'icalfeed_render_duration_seconds_count\{format="ics"\} (\S+)', metrics)
    assert renders is not None and float(renders.group(1)) == 1.0, renders
