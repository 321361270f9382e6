"""An upstream fault matrix against the fake LL2.

After a first good sync, one sync meets a fault.  For every real failure the served feed stays
byte-identical (in memory and on disk), `last_error` names the problem by its reason word, the
requests spent stay bounded, and the next healthy sync two hours later recovers without a
restart.  Answers that are odd but not failures (an empty page, duplicates across pages,
schema drift) must give the right merged outcome instead.
"""

from __future__ import annotations

import copy
import json
import math
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from conftest import settings_against
from fake_ll2 import FakeLL2, Fault, Seen
from icalendar import Calendar
from ll2data import upstream_events
from synctools import Clock, make_syncer

from icalfeed import create_app
from icalfeed.base.config import Settings
from icalfeed.data.snapshot import Snapshot
from icalfeed.data.store import read_snapshot
from icalfeed.feeds.output import render_feed
from icalfeed.feeds.query import FeedQuery
from icalfeed.ll2.models import Event
from icalfeed.sync.passes import Syncer
from icalfeed.sync.scheduler import SyncScheduler

ALL = "start=1950-01-01"
DAY = datetime(2026, 11, 25, tzinfo=UTC)
UPCOMING, CHANGES = 1, 2  # which request of a sync (after the first one) meets the fault
# An upcoming event (LL2 id 384, "Solar Orbiter Venus Flyby", 2026-12-24) and a past one.
UPCOMING_ID = 384
PAST_ID = 1327  # "Booster 19 Rollout to Masseys", 2026-02-01


# --------------------------------------------------------------------------- helpers


def feed_bytes(snapshot: Snapshot, fmt: str = "ics") -> bytes:
    """The bytes of the everything-feed for a snapshot, on a fixed day."""
    query = FeedQuery.from_string(ALL, snapshot.catalog)
    return render_feed(fmt, snapshot, query, DAY, 2000).body


def served(settings: Settings) -> bytes:
    """What a server (re)started on this data dir serves right now."""
    app = create_app(settings, start_sync=False)
    response = app.test_client().get(f"/events.ics?{ALL}")
    assert response.status_code == 200
    return response.data


def assert_matches_upstream(snapshot: Snapshot, fake: FakeLL2) -> None:
    assert set(snapshot.entries) == {f"event:{i}" for i in fake.events}
    for event_id, raw in fake.events.items():
        entry = snapshot.entries[f"event:{event_id}"]
        assert entry.removed_at is None, event_id
        assert entry.item == Event.from_ll2(raw), event_id


def newer(raw: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of an LL2 event as edited upstream after the first sync."""
    event = copy.deepcopy(raw)
    event.update(last_updated="2026-11-25T13:00:00Z", **changes)
    return event


def listing_url(seen: Seen, fake: FakeLL2, **params: str) -> str:
    """The absolute URL of a request the fake saw, optionally with other parameters."""
    origin = fake.base_url.removesuffix("/2.3.0")
    return f"{origin}{seen.path}?{urlencode({**seen.params, **params})}"


@dataclass(frozen=True)
class Baseline:
    """A data dir after the first good sync (done once per module), and what it serves."""

    data_dir: Path
    feed: bytes
    served: bytes
    version: str


@dataclass
class World:
    fake: FakeLL2
    settings: Settings
    clock: Clock
    syncer: Syncer
    scheduler: SyncScheduler
    base: Baseline

    def spent_since(self, mark: int) -> int:
        return len(self.fake.requests) - mark

    def assert_unchanged(self) -> None:
        """Byte-identical feed in memory; the same data on disk for a restarted server."""
        snapshot = self.syncer.store.snapshot
        assert snapshot.version == self.base.version
        assert feed_bytes(snapshot) == self.base.feed
        on_disk = read_snapshot(self.settings.data_dir / "snapshot.json")
        assert on_disk.version == self.base.version

    def recover(self) -> None:
        """Upstream heals (and changes one event); the next sync, two hours on, catches up."""
        self.fake.faults.clear()
        self.fake.faults_at.clear()
        self.fake.on_request = None
        edited = newer(self.fake.events[UPCOMING_ID], name="Solar Orbiter Venus Flyby (moved)")
        self.fake.upsert(edited)
        self.clock.advance(hours=2)
        report = self.syncer.run()
        assert report.ok, report.line()
        assert self.syncer.store.last_error is None
        snapshot = self.syncer.store.snapshot
        assert_matches_upstream(snapshot, self.fake)
        names = {e["id"]: e["name"] for e in json.loads(feed_bytes(snapshot, "json"))["events"]}
        assert names[UPCOMING_ID] == "Solar Orbiter Venus Flyby (moved)"
        assert read_snapshot(self.settings.data_dir / "snapshot.json").version == snapshot.version


UPSTREAM_EVENTS = upstream_events()


def reset(fake: FakeLL2) -> None:
    """Back to the fixture events, no requests seen, no faults scripted."""
    fake.events = {e["id"]: copy.deepcopy(e) for e in UPSTREAM_EVENTS}
    fake.requests.clear()
    fake.faults.clear()
    fake.faults_at.clear()
    fake.on_request = None


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeLL2]:
    """One fake LL2 for the module, reset for each test (stopping one costs half a second)."""
    server = FakeLL2(UPSTREAM_EVENTS).start()
    yield server
    server.stop()


def settings_for(fake: FakeLL2, data_dir: Path) -> Settings:
    """As the `online_settings` fixture: the fake upstream, short timeouts, events only."""
    return settings_against(fake, data_dir)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory, upstream: FakeLL2) -> Baseline:
    reset(upstream)
    settings = settings_for(upstream, tmp_path_factory.mktemp("baseline") / "var")
    syncer = make_syncer(settings, Clock())
    report = syncer.run()
    assert report.ok and syncer.store.snapshot.sync().backfill_complete
    assert_matches_upstream(syncer.store.snapshot, upstream)
    snapshot = syncer.store.snapshot
    return Baseline(settings.data_dir, feed_bytes(snapshot), served(settings), snapshot.version)


@pytest.fixture
def world(baseline: Baseline, upstream: FakeLL2, tmp_path: Path) -> World:
    """The state after a first good sync (copied from `baseline`), two hours later."""
    reset(upstream)
    settings = settings_for(upstream, tmp_path / "var")
    for name in ("snapshot.json", "budget.json"):
        shutil.copy2(baseline.data_dir / name, settings.data_dir / name)
    clock = Clock()  # the baseline synced at this same instant
    clock.advance(hours=2)  # both passes are due again
    syncer = make_syncer(settings, clock)
    assert syncer.store.snapshot.version == baseline.version
    return World(
        fake=upstream,
        settings=settings,
        clock=clock,
        syncer=syncer,
        scheduler=SyncScheduler(syncer, tick_seconds=60),
        base=baseline,
    )


# --------------------------------------------------------------------------- real failures

HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
    b"<body><h1>Service temporarily unavailable</h1></body></html>"
)
THROTTLED = b'{"detail":"Request was throttled. Expected available in 300 seconds."}'
TRUNCATED = b'{"count": 257, "next": null, "results": [{"id": 13'
FAILURES = {
    "429-retry-after": (Fault(429, b"{}", {"Retry-After": "120"}), "throttled"),
    "429-bare": (Fault(429), "throttled"),
    "429-ll2-detail": (Fault(429, THROTTLED), "throttled"),
    "500": (Fault(500, b'{"detail":"Server Error (500)"}'), "http-500"),
    "502": (Fault(502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"}), "http-502"),
    "503": (Fault(503, b"", {"Retry-After": "60"}), "http-503"),
    "dropped": (Fault(close=True), "unreachable"),
    "read-timeout": (Fault(delay=3), "timeout"),
    "truncated-json": (Fault(200, TRUNCATED), "bad-json"),
    "html-200": (Fault(200, HTML_PAGE, {"Content-Type": "text/html"}), "bad-json"),
    "empty-200": (Fault(200, b""), "bad-json"),
    "not-a-listing": (Fault(200, b'{"detail": "Not found."}'), "bad-shape"),
    "results-not-a-list": (Fault(200, b'{"count": 1, "results": {"id": 1}}'), "bad-shape"),
}


@pytest.mark.parametrize("position", [UPCOMING, CHANGES], ids=["upcoming", "changes"])
@pytest.mark.parametrize("name", list(FAILURES))
def test_a_failing_sync_keeps_the_feed_and_names_the_problem(world, name, position):
    """The fault hits the upcoming request (first of the sync) or the changes request."""
    template, reason = FAILURES[name]
    fault = copy.deepcopy(template)
    mark = len(world.fake.requests)
    world.fake.fail_request(position, fault)
    started = time.monotonic()
    report = world.scheduler.run_once()
    elapsed = time.monotonic() - started

    # The failure is reported by its reason word, in the report and in the store.
    assert report.error is not None and report.error.startswith(f"{reason}:"), report.error
    assert world.syncer.store.last_error == report.error
    # Nothing served changed: in memory, on disk, and for a restarted server.
    world.assert_unchanged()
    # No retry storm: the failing pass asked once and backs off on its own; the other pass
    # still ran (unless a 429 paused the whole budget); nothing hung.
    failing = world.syncer.store.snapshot.sync().health(
        "reconcile" if position == UPCOMING else "changes"
    )
    assert failing.failures == 1 and failing.retry_at > world.clock()
    assert failing.error == report.error.rsplit(" [", 1)[0]
    assert world.spent_since(mark) == (1 if reason == "throttled" and position == UPCOMING else 2)
    assert elapsed < world.settings.read_timeout + 3
    if reason == "throttled":
        # The whole budget pauses: an impatient second sync spends nothing.
        paused = world.syncer.client.budget.status().paused_until
        wait = {"429-retry-after": 120, "429-bare": 900, "429-ll2-detail": 300}[name]
        assert paused == pytest.approx(world.clock.timestamp() + wait, abs=2)
        assert world.scheduler.next_delay() >= wait - 2
        before = len(world.fake.requests)
        world.syncer.run()
        assert len(world.fake.requests) == before
        world.assert_unchanged()

    world.recover()


def test_budget_is_never_exceeded_by_repeated_failures(world):
    """Even a caller that retries at once after every failure stays within the hour's budget."""
    limit = world.settings.requests_per_hour
    world.fake.fail_next(*[Fault(503) for _ in range(3 * limit)])
    mark = len(world.fake.requests)
    for _ in range(2 * limit):
        report = world.syncer.run()
        assert report.error is None or report.error.startswith("http-503")
    # Each failing pass asked once and then backs off on its own (1 minute, doubling): no
    # retry at once, and far inside the hour's budget.
    assert world.spent_since(mark) == 2 <= limit
    for minutes in (1, 2, 4, 8):
        world.clock.advance(minutes=minutes, seconds=1)
        world.syncer.run()
    assert world.spent_since(mark) == 10 <= limit
    world.assert_unchanged()
    world.recover()


def test_next_pointing_at_itself_is_a_paging_loop(world):
    def loop(seen: Seen) -> None:
        # The upcoming page answers with real results and a `next` equal to its own URL.
        if seen.path.endswith("/upcoming/"):
            body = world.fake.listing(seen.path, seen.params)
            body["next"] = listing_url(seen, world.fake)
            world.fake.fail_next(Fault(200, json.dumps(body).encode()))

    world.fake.on_request = loop
    mark = len(world.fake.requests)
    report = world.syncer.run()
    assert report.error is not None and report.error.startswith("paging-loop:")
    assert "paging-loop" in (world.syncer.store.last_error or "")
    assert world.spent_since(mark) == 2  # the looping reconcile, once; the changes pass
    world.assert_unchanged()
    world.recover()


@pytest.mark.parametrize("kind", ["back-to-page-1", "fresh-every-time", "off-the-api"])
def test_the_changes_pass_never_follows_next(world, kind):
    """The changes pass asks by cursor, not by LL2's `next`: a `next` that loops, never ends
    or points off the API changes nothing; the pass ends where the data ends."""
    spins = iter(range(10_000))

    def bogus(seen: Seen) -> None:
        if seen.path.endswith("/upcoming/"):
            return
        body = world.fake.listing(seen.path, seen.params)
        body["next"] = {
            "back-to-page-1": listing_url(seen, world.fake),
            "fresh-every-time": listing_url(seen, world.fake, spin=str(next(spins))),
            "off-the-api": "http://localhost:9/2.3.0/events/?limit=100&offset=100",
        }[kind]
        world.fake.fail_next(Fault(200, json.dumps(body).encode()))

    world.fake.on_request = bogus
    mark = len(world.fake.requests)
    report = world.syncer.run()
    assert report.ok, report.line()
    # upcoming; the changes page; its last second; that second alone (empty); past it
    assert world.spent_since(mark) <= 5
    world.assert_unchanged()
    world.recover()


def test_next_off_the_api_is_refused_without_following_it(world):
    # "localhost" is not the configured host (127.0.0.1); were it followed, it stays loopback.
    off_api = "http://localhost:9/2.3.0/events/?limit=100&offset=100"

    def redirect(seen: Seen) -> None:
        if seen.path.endswith("/upcoming/"):
            body = world.fake.listing(seen.path, seen.params)
            body["next"] = off_api
            world.fake.fail_next(Fault(200, json.dumps(body).encode()))

    world.fake.on_request = redirect
    mark = len(world.fake.requests)
    report = world.syncer.run()
    assert report.error is not None and report.error.startswith("bad-next:")
    assert world.spent_since(mark) == 2  # the upcoming page; the changes pass still runs
    world.assert_unchanged()
    world.recover()


# --------------------------------------------------------------------------- slow drip


class DripLL2:
    """A second upstream on 127.0.0.1 that answers the upcoming listing of `fake` correctly
    but trickles the body out a chunk at a time; other listings come at full speed."""

    def __init__(self, fake: FakeLL2, chunks: int, gap: float) -> None:
        self.fake, self.chunks, self.gap = fake, chunks, gap
        self.stopping = threading.Event()
        self.requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/2.3.0"

    def __enter__(self) -> DripLL2:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        drip = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                drip.requests += 1
                parts = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                body = json.dumps(drip.fake.listing(parts.path, params)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                slow = parts.path.endswith("/upcoming/")
                size = math.ceil(len(body) / drip.chunks) if slow else len(body)
                try:
                    for start in range(0, len(body), size):
                        if slow and drip.stopping.wait(drip.gap):
                            return
                        self.wfile.write(body[start : start + size])
                        self.wfile.flush()
                except OSError:
                    return

        return Handler


class NoDeadlineError(AssertionError):
    """A dripping upstream held a sync past the request deadline."""


def test_slow_drip_is_cut_off_and_never_blocks_serving(world):
    settings = replace(world.settings, connect_timeout=0.5, read_timeout=0.5)
    drip_seconds = 4.0  # eight times the read timeout, every gap well under it
    with DripLL2(world.fake, chunks=20, gap=drip_seconds / 20) as drip:
        syncer = make_syncer(replace(settings, upstream_url=drip.base_url), world.clock)
        done: list[Any] = []
        thread = threading.Thread(target=lambda: done.append(syncer.run()))
        started = time.monotonic()
        thread.start()
        time.sleep(0.3)
        # While the sync hangs on the drip, feeds are served at once and unchanged.
        assert thread.is_alive()
        served_at = time.monotonic()
        assert served(world.settings) == world.base.served
        assert time.monotonic() - served_at < 2
        thread.join(timeout=30)
        elapsed = time.monotonic() - started
    assert not thread.is_alive() and done
    report = done[0]
    assert drip.requests <= 2
    if report.error is not None:
        # Cut off: reported as a timeout, nothing served changed.
        assert report.error.startswith("timeout:")
        assert world.syncer.store.snapshot.version == world.base.version
    else:
        # Let through: the data is complete and right.
        assert_matches_upstream(syncer.store.snapshot, world.fake)
    assert served(world.settings) == world.base.served
    if elapsed > 3 * (settings.connect_timeout + settings.read_timeout):
        raise NoDeadlineError(
            f"a dripping upstream held one sync for {elapsed:.1f}s "
            f"(read timeout {settings.read_timeout}s)"
        )


# --------------------------------------------------------------------------- not failures


def _page_fault(results: list[dict[str, Any]], next_url: str | None) -> Fault:
    body = {"count": len(results), "next": next_url, "previous": None, "results": results}
    return Fault(200, json.dumps(body).encode())


def test_empty_changes_page_means_nothing_changed(world):
    world.fake.fail_request(CHANGES, _page_fault([], None))
    watermark = world.syncer.store.snapshot.sync().watermark
    mark = len(world.fake.requests)
    report = world.syncer.run()
    assert report.ok and report.error is None
    assert world.syncer.store.last_error is None
    assert world.spent_since(mark) == 2
    snapshot = world.syncer.store.snapshot
    assert snapshot.sync().backfill_complete and snapshot.sync().watermark == watermark
    world.assert_unchanged()
    world.recover()


def test_an_empty_upcoming_page_is_not_believed(world):
    """LL2 always lists upcoming events: an empty window is a glitch, not the removal of a
    calendar's worth of events (some clients delete CANCELLED events for good). Nor is it
    silent (#31): the reconcile fails, named, until LL2 answers sense again."""
    before = world.syncer.store.snapshot
    world.fake.fail_request(UPCOMING, _page_fault([], None))
    report = world.syncer.run()
    assert not report.ok and report.error is not None
    assert report.error.startswith("not-believed: LL2's upcoming events list 0")
    assert report.error.endswith("nothing removed [events reconcile]")
    assert world.syncer.store.last_error == report.error
    assert report.counts.removed == 0
    snapshot = world.syncer.store.snapshot
    for event_id, entry in snapshot.entries.items():
        assert entry.removed_at is None
        assert entry.sequence == before.entries[event_id].sequence
    assert feed_bytes(snapshot) == world.base.feed
    world.recover()


@pytest.mark.parametrize("order", ["newer-first", "older-first"])
def test_duplicate_ids_across_pages_keep_the_newest_copy(world, order):
    """The same event on two pages of one listing, with different last_updated: the older
    copy never wins, whichever page comes first."""
    # A past event, so only the changes listing carries it (not the upcoming window).
    event_id = PAST_ID
    old = world.fake.events[event_id]
    assert Event.from_ll2(old).start < world.clock.now
    fresh = newer(old, date="2020-01-02T10:00:00Z", name="Booster 19 Rollout (fresh)")
    stale = copy.deepcopy(old)
    stale.update(last_updated="2026-11-25T12:30:00Z", name="Booster 19 Rollout (stale)")
    world.fake.upsert(fresh)
    pages = [fresh, stale] if order == "newer-first" else [stale, fresh]

    served: list[int] = []

    def paged(seen: Seen) -> None:
        if seen.path.endswith("/upcoming/"):
            return
        if not served:
            following = listing_url(seen, world.fake, offset="100")
            world.fake.fail_next(_page_fault([pages[0]], following))
        else:
            world.fake.fail_next(_page_fault([pages[1]], None))
        served.append(1)

    world.fake.on_request = paged
    mark = len(world.fake.requests)
    report = world.syncer.run()
    world.fake.on_request = None
    assert report.ok, report.line()
    # upcoming; the first copy (a page of one second, so…); that second alone; past it
    assert world.spent_since(mark) == 4
    entry = world.syncer.store.snapshot.entries[f"event:{event_id}"]
    assert entry.item.name == "Booster 19 Rollout (fresh)"
    assert entry.item == Event.from_ll2(fresh)
    assert entry.sequence == 1  # the time moved once
    # Every change stamped before the watermark is read (13:00:00 in full, so 13:00:01).
    assert world.syncer.store.snapshot.sync().watermark in (
        "2026-11-25T13:00:00Z",
        "2026-11-25T13:00:01Z",
    )
    body = feed_bytes(world.syncer.store.snapshot)
    assert b"Booster 19 Rollout (fresh)" in body and b"(stale)" not in body
    # The next ordinary sync changes nothing more.
    world.clock.advance(hours=2)
    assert world.syncer.run().ok
    assert world.syncer.store.snapshot.entries[f"event:{event_id}"].sequence == 1


DRIFTS = {
    "precision-as-string": {"date_precision": "Month"},
    "type-null": {"type": None},
    "type-as-string": {"type": "Spacecraft Event"},
    "agencies-null": {"agencies": None},
    "program-as-dict": {"program": {"id": 1, "name": "SpaceX Starship"}},
    "vid_urls-null": {"vid_urls": None},
    "vid_urls-as-dict": {"vid_urls": {"url": "https://example.org/v"}},
    "vid_urls-as-number": {"vid_urls": 7},
    "info_urls-as-number": {"info_urls": 7},
    "image-as-string": {"image": "https://example.org/image.jpg"},
    "location-as-number": {"location": 42},
    "duration-as-number": {"duration": 3600},
    "id-as-string": {"id": str(UPCOMING_ID)},
}


@pytest.mark.parametrize("drift", list(DRIFTS))
def test_schema_drift_in_one_event_is_absorbed(world, drift):
    """A field that changes type, or a nested object that becomes null: the event is still
    read (what cannot be read is left out), the others are untouched, the feed stays valid."""
    drifted = newer(world.fake.events[UPCOMING_ID], **DRIFTS[drift])
    world.fake.events[UPCOMING_ID] = drifted
    before = world.syncer.store.snapshot
    report = world.syncer.run()
    assert report.ok and report.skipped == 0, report.line()
    snapshot = world.syncer.store.snapshot
    assert set(snapshot.entries) == set(before.entries)
    entry = snapshot.entries[f"event:{UPCOMING_ID}"]
    assert entry.removed_at is None
    assert entry.item == Event.from_ll2(drifted)
    for key, other in before.entries.items():
        if key != f"event:{UPCOMING_ID}":
            assert snapshot.entries[key].item == other.item
            assert snapshot.entries[key].removed_at is None
    body = feed_bytes(snapshot)
    uids = {str(v["UID"]) for v in Calendar.from_ical(body).walk("VEVENT")}
    assert f"ll2-event-{UPCOMING_ID}@icalfeed" in uids
    assert read_snapshot(world.settings.data_dir / "snapshot.json").version == snapshot.version


def test_unreadable_drift_keeps_the_last_good_copy(world):
    """When drift makes an event unreadable (its name became null) the rest of the page is
    still used, the event is counted as skipped, and the last good copy stays as it was: it
    was not removed upstream."""
    before = world.syncer.store.snapshot
    world.fake.events[UPCOMING_ID] = newer(world.fake.events[UPCOMING_ID], name=None)
    report = world.syncer.run()
    assert report.error is None and report.skipped == 2  # once per pass
    assert report.counts.removed == 0, "a skipped event was taken for a removed one"
    entry = world.syncer.store.snapshot.entries[f"event:{UPCOMING_ID}"]
    assert entry.item == before.entries[f"event:{UPCOMING_ID}"].item
    assert entry.removed_at is None
    assert feed_bytes(world.syncer.store.snapshot) == world.base.feed
