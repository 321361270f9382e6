"""Change signals subscribers rely on (#21): a Last-Modified that moves whenever a feed's
bytes do, and cancelled items that look cancelled and stay quiet.

Every case the reviews proved is replayed through the real routes, both through Flask (the
first conditional request after a change) and through the fast path (after a plain request
stored the answer), with If-Modified-Since only, If-None-Match only, and both; then a
property test: random snapshot changes, and a client holding any older answer never gets a
304 for other bytes.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from icalfeed import create_app
from icalfeed.base.config import Settings
from icalfeed.data.snapshot import Snapshot
from icalfeed.data.store import load_sample
from icalfeed.ll2.models import Event, parse_events, parse_launches
from icalfeed.web.runtime import current_runtime

ALL = "start=1950-01-01"
STAMP = "%Y-%m-%dT%H:%M:%SZ"


class FakeClock:
    """The service's clock (store, views and fast path read it), sixty days ago and moving
    only when told, so every change lands in a later second."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0) - timedelta(days=60)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Service:
    app: Flask
    client: FlaskClient
    clock: FakeClock

    @property
    def snapshot(self) -> Snapshot:
        return current_runtime(self.app).store.snapshot

    def commit(self, snapshot: Snapshot, **wait: float) -> None:
        self.clock.now += timedelta(**(wait or {"minutes": 1}))
        current_runtime(self.app).store.commit(snapshot)


def start_service(tmp_path) -> Service:
    settings = Settings(data_dir=tmp_path / f"var-{datetime.now().timestamp()}", offline=True)
    app = create_app(settings, start_sync=False)
    runtime = current_runtime(app)
    clock = FakeClock()
    runtime.store.clock = clock
    runtime.started_at = clock.now - timedelta(days=30)  # a process that has run a while
    service = Service(app, app.test_client(), clock)
    service.commit(replace(load_sample(), source="snapshot"))
    return service


@pytest.fixture
def service(tmp_path) -> Service:
    return start_service(tmp_path)


@dataclass(frozen=True)
class Answer:
    body: bytes
    etag: str
    modified: str  # the Last-Modified header, as sent


def fetch(service: Service, url: str) -> Answer:
    response = service.client.get(url)
    assert response.status_code == 200, (url, response.data[:200])
    modified = response.headers["Last-Modified"]
    # Never after Date (the fast path leaves Date to the server, which the test client is not).
    date = response.headers.get("Date")
    sent = parsedate_to_datetime(date) if date else service.clock.now
    assert parsedate_to_datetime(modified) <= min(sent, service.clock.now)
    return Answer(response.data, response.headers["ETag"], modified)


def conditional(service: Service, url: str, held: Answer, style: str) -> int:
    headers = {}
    if style in ("since", "both"):
        headers["If-Modified-Since"] = held.modified
    if style in ("match", "both"):
        headers["If-None-Match"] = held.etag
    return service.client.get(url, headers=headers).status_code


STYLES = ("since", "match", "both")


def assert_change_is_seen(service: Service, url: str, change: Callable[[], None]) -> None:
    """A client holding the answer from before `change` gets the new bytes, through Flask and
    through the fast path, whatever validators it sends; and 304 once it has them."""
    before = fetch(service, url)
    for style in STYLES:  # the stored answer, before any change: 304 (fast path)
        assert conditional(service, url, before, style) == 304, style
    change()
    for style in STYLES:  # first after the change: no stored answer yet, Flask decides
        assert conditional(service, url, before, style) == 200, ("flask", style)
    after = fetch(service, url)
    assert after.body != before.body
    assert parsedate_to_datetime(after.modified) > parsedate_to_datetime(before.modified)
    for style in STYLES:  # now stored: the fast path decides
        assert conditional(service, url, before, style) == 200, ("fast path", style)
        assert conditional(service, url, after, style) == 304, ("fast path", style)


def events(snapshot: Snapshot) -> list[Event]:
    return [e for e in snapshot.events if e.start.year == 2020]


def raw_copy(snapshot: Snapshot, key: str, **changes: Any) -> list[tuple[Any, Any]]:
    """The stored LL2 record of `key`, edited, parsed like a new page."""
    record = copy.deepcopy(dict(snapshot.entries[key].record))
    record.update(changes)
    parse = parse_launches if key.startswith("launch:") else parse_events
    return list(parse([record]).items)


# ----------------------------------------------------------- each case the reviews proved


def test_a_removed_item_listed_again(service):
    """Its removal was the newest stamp: when it came back, Last-Modified went back to
    midnight while the body lost STATUS:CANCELLED, and If-Modified-Since got 304."""
    key = f"event:{events(service.snapshot)[0].id}"
    now = service.clock.now
    removed, _ = service.snapshot.mark_removed([key], now)
    service.commit(removed)
    back, _ = removed.merge([(removed.entries[key].item, removed.entries[key].record)], now)
    assert_change_is_seen(service, f"/events.ics?{ALL}", lambda: service.commit(back))


def test_an_item_leaves_a_filtered_feed(service):
    """Rescheduled out of year=2019: the stamps still shown did not move, so neither did the
    header."""
    event = next(e for e in service.snapshot.events if e.start.year == 2019)
    key = f"event:{event.id}"
    moved = raw_copy(
        service.snapshot, key, date="2021-05-01T00:00:00Z", last_updated="2026-11-20T00:00:00Z"
    )

    def reschedule() -> None:
        service.commit(service.snapshot.merge(moved, service.clock.now)[0])

    assert_change_is_seen(service, "/events.ics?year=2019", reschedule)


def test_a_launch_slips_past_end_or_out_of_status_go(service):
    launch = next(x for x in service.snapshot.launches if x.status and x.status.id == 1)
    key = f"launch:{launch.id}"
    stamp = (service.clock.now + timedelta(hours=1)).strftime(STAMP)
    slipped = raw_copy(
        service.snapshot,
        key,
        status={"id": 2, "name": "To Be Determined", "abbrev": "TBD"},
        net="2031-01-01T00:00:00Z",
        window_start="2031-01-01T00:00:00Z",
        window_end="2031-01-01T00:00:00Z",
        last_updated=stamp,
    )

    def slip() -> None:
        service.commit(service.snapshot.merge(slipped, service.clock.now)[0])

    assert_change_is_seen(service, f"/launches.ics?{ALL}&status=go&end=2030-01-01", slip)


def test_items_with_old_stamps_are_added(service):
    """A history backfill (or the first sync replacing the sample) adds items stamped years
    ago: 129 events added, and still 304."""
    full = service.snapshot
    old = [k for k, e in full.entries.items() if e.kind == "event" and e.item.start.year == 2021]
    service.commit(replace(full, entries={k: e for k, e in full.entries.items() if k not in old}))
    added = [(full.entries[k].item, full.entries[k].record) for k in old]

    def backfill() -> None:
        service.commit(service.snapshot.merge(added, service.clock.now)[0])

    assert_change_is_seen(service, f"/events.ics?{ALL}", backfill)


def test_a_cancelled_item_is_pruned(service):
    key = f"event:{events(service.snapshot)[1].id}"
    service.commit(service.snapshot.mark_removed([key], service.clock.now)[0])

    def prune() -> None:
        service.commit(service.snapshot.prune(service.clock.now + timedelta(days=8)), days=8)

    assert_change_is_seen(service, f"/events.ics?{ALL}", prune)


def test_content_changes_under_an_equal_upstream_stamp(service):
    event = events(service.snapshot)[2]
    key = f"event:{event.id}"
    same_stamp = raw_copy(service.snapshot, key, name=f"{event.name} (renamed)")

    def rename() -> None:
        service.commit(service.snapshot.merge(same_stamp, service.clock.now)[0])

    assert_change_is_seen(service, f"/events.ics?{ALL}", rename)


def test_last_modified_stands_still_while_the_bytes_do(service):
    """Other data changing (and new versions committed) leaves an unchanged feed's date."""
    url = "/events.ics?year=2019"
    first = fetch(service, url)
    event = events(service.snapshot)[3]  # 2020: not in this feed
    renamed = raw_copy(service.snapshot, f"event:{event.id}", name="Renamed elsewhere")
    service.commit(service.snapshot.merge(renamed, service.clock.now)[0], hours=2)
    again = fetch(service, url)
    assert again.body == first.body and again.modified == first.modified
    assert conditional(service, url, first, "since") == 304


def test_two_answers_in_one_second_never_share_a_date():
    """Data committed twice within one second: the second answer cannot be dated later than
    now, so it goes without Last-Modified rather than repeat the first one's."""
    from icalfeed.feeds.freshness import AnswerDates

    dates = AnswerDates()
    second = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
    first = dates.last_modified("q", "etag-1", second, second + timedelta(microseconds=100))
    again = dates.last_modified("q", "etag-2", second, second + timedelta(microseconds=500_000))
    assert first == second and again is None
    assert dates.last_modified(
        "q", "etag-2", second, second + timedelta(seconds=1)
    ) == second + timedelta(seconds=1)
    assert dates.last_modified(
        "q", "etag-2", second, second + timedelta(hours=1)
    ) == second + timedelta(seconds=1)


# ----------------------------------------------------------------- cancelled items


def test_cancelled_items_say_so_and_stay_quiet(service):
    event = next(e for e in service.snapshot.events if e.precision.is_timed)
    launch = next(x for x in service.snapshot.launches if x.precision.is_timed)
    removed_at = service.clock.now
    snapshot, _ = service.snapshot.mark_removed([event.key, launch.key], removed_at)
    service.commit(snapshot)
    body = service.client.get(f"/feed.ics?{ALL}&alarm=10,60").data
    vevents = {str(v["UID"]): v for v in Calendar.from_ical(body).walk("VEVENT")}
    for uid in (f"ll2-event-{event.id}@icalfeed", f"ll2-launch-{launch.id}@icalfeed"):
        cancelled = vevents[uid]
        assert cancelled["STATUS"] == "CANCELLED"
        assert str(cancelled["SUMMARY"]).startswith("Cancelled: ")
        assert cancelled.walk("VALARM") == []  # Thunderbird would fire them
        assert cancelled["DTSTAMP"].dt == cancelled["LAST-MODIFIED"].dt == removed_at
    others = [v for uid, v in vevents.items() if v["STATUS"] != "CANCELLED"]
    assert any(v.walk("VALARM") for v in others)  # alarms still come for the rest
    document = json.loads(service.client.get(f"/feed.json?{ALL}").data)
    shown = {x["uid"]: x for x in document["events"] + document["launches"]}
    for uid in (f"ll2-event-{event.id}@icalfeed", f"ll2-launch-{launch.id}@icalfeed"):
        assert shown[uid]["cancelled"] is True and shown[uid]["status"] == "cancelled"
        assert shown[uid]["title"].startswith("Cancelled: ")
    # The widget lists what is coming: a cancelled upcoming event is struck through, named so.
    coming = next(e for e in service.snapshot.events if e.start > service.clock.now)
    service.commit(service.snapshot.mark_removed([coming.key], service.clock.now)[0])
    widget = service.client.get(f"/widget?id={coming.id}").get_data(as_text=True)
    assert "Cancelled: " in widget and "cancelled upstream" in widget


# ------------------------------------------------------------------- property test

URLS = [
    f"/events.ics?{ALL}",
    "/events.ics?year=2019",
    "/events.ics",
    f"/events.json?{ALL}&alarm=10",
    f"/launches.ics?{ALL}&status=go",
    "/programs/spacex-starship.ics?start=2020-01-01",
]
OPERATIONS = ("remove", "restore", "edit", "edit-same-stamp", "move", "drop", "prune", "wait")


@dataclass
class World:
    service: Service
    dropped: dict[str, Any]  # records taken out, to add back later


def apply(world: World, operation: str, pick: int, wait: int) -> None:
    service = world.service
    snapshot = service.snapshot
    keys = sorted(snapshot.entries)
    key = keys[pick % len(keys)]
    now = service.clock.now
    stamp = (now + timedelta(seconds=1)).strftime(STAMP)
    if operation == "remove":
        snapshot = snapshot.mark_removed([key], now)[0]
    elif operation == "restore":
        removed = [k for k in keys if snapshot.entries[k].removed_at] or [key]
        entry = snapshot.entries[removed[pick % len(removed)]]
        snapshot = snapshot.merge([(entry.item, entry.record)], now)[0]
    elif operation == "edit":
        snapshot = snapshot.merge(
            raw_copy(snapshot, key, name=f"Edited {pick}", last_updated=stamp), now
        )[0]
    elif operation == "edit-same-stamp":
        snapshot = snapshot.merge(raw_copy(snapshot, key, name=f"Same stamp {pick}"), now)[0]
    elif operation == "move":
        field = "net" if key.startswith("launch:") else "date"
        moved = raw_copy(
            snapshot, key, **{field: f"20{19 + pick % 4}-06-01T00:00:00Z", "last_updated": stamp}
        )
        snapshot = snapshot.merge(moved, now)[0]
    elif operation == "drop":
        if world.dropped and pick % 2:
            _, (item, record) = world.dropped.popitem()
            snapshot = snapshot.merge([(item, record)], now)[0]
        else:
            entry = snapshot.entries[key]
            world.dropped[key] = (entry.item, entry.record)
            snapshot = replace(
                snapshot, entries={k: e for k, e in snapshot.entries.items() if k != key}
            )
    elif operation == "prune":
        service.clock.now += timedelta(days=8)
        snapshot = snapshot.prune(service.clock.now)
    service.commit(snapshot, seconds=wait)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    print_blob=True,
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 10_000), st.integers(1, 30_000)),
        min_size=1,
        max_size=6,
    )
)
def test_property_no_304_for_other_bytes(tmp_path, steps):
    world = World(start_service(tmp_path), {})
    held: dict[str, list[Answer]] = {url: [fetch(world.service, url)] for url in URLS}
    for operation, pick, wait in steps:
        apply(world, operation, pick, wait)
        for url in URLS:
            current = fetch(world.service, url)
            for old in held[url]:
                status = conditional(world.service, url, old, "since")
                assert status == 200 or old.body == current.body, (url, operation, old.modified)
            held[url].append(current)


def test_a_new_release_never_dates_new_bytes_before_an_old_answer(tmp_path, monkeypatch):
    """A new release renders the same data differently, and the restarted process knows no
    earlier answer: it dates its answers from its own start, so If-Modified-Since from a
    client of the old release gets the new bytes."""
    service = start_service(tmp_path)
    url = f"/events.ics?{ALL}"
    old = fetch(service, url)
    monkeypatch.setattr("icalfeed.feeds.ics.PRODID", "-//icalfeed//icalfeed 9.9//EN")
    settings = current_runtime(service.app).settings
    restarted = create_app(settings, start_sync=False)
    runtime = current_runtime(restarted)
    service.clock.now += timedelta(minutes=5)
    runtime.store.clock = service.clock
    runtime.started_at = service.clock.now
    new = Service(restarted, restarted.test_client(), service.clock)
    answer = fetch(new, url)
    assert answer.body != old.body
    assert parsedate_to_datetime(answer.modified) > parsedate_to_datetime(old.modified)
    assert conditional(new, url, old, "since") == 200


def test_last_modified_rounds_a_sub_second_change_up():
    """HTTP dates have whole seconds: data changed at 12:00:00.250 is dated 12:00:01, never
    12:00:00, or a client holding an answer from 12:00:00.100 would be told "not modified"."""
    from icalfeed.feeds.freshness import AnswerDates

    dates = AnswerDates()
    changed = datetime(2026, 11, 1, 12, 0, 0, 250_000, tzinfo=UTC)
    later = changed + timedelta(minutes=5)
    assert dates.last_modified("q", "etag-1", changed, later) == datetime(
        2026, 11, 1, 12, 0, 1, tzinfo=UTC
    )
    # A whole second stays as it is; the same bytes keep their date whatever `changed` says.
    whole = datetime(2026, 11, 1, 13, 0, 0, tzinfo=UTC)
    assert dates.last_modified("r", "etag-1", whole, later + timedelta(hours=1)) == whole
    assert dates.last_modified("q", "etag-1", whole, later + timedelta(hours=1)) == datetime(
        2026, 11, 1, 12, 0, 1, tzinfo=UTC
    )
    # Just after a whole second (1 µs) is still rounded up, and a date equal to now is sent.
    tiny = datetime(2026, 11, 1, 14, 0, 0, 1, tzinfo=UTC)
    up = datetime(2026, 11, 1, 14, 0, 1, tzinfo=UTC)
    assert dates.last_modified("s", "etag-1", tiny, up) == up


def test_a_sub_second_commit_is_never_answered_304_for_an_older_answer(tmp_path):
    """Through the routes, with a clock that has sub-second times: a client holding the
    answer from before a commit in the same second gets the new bytes, not a 304."""
    from icalfeed.feeds.freshness import AnswerDates

    service = start_service(tmp_path)
    service.clock.now = service.clock.now.replace(microsecond=100_000)
    url = f"/events.ics?{ALL}"
    before = fetch(service, url)
    event = events(service.snapshot)[0]
    renamed = raw_copy(service.snapshot, f"event:{event.id}", name="Renamed in the same second")
    # Committed 0.4 s later, inside the same second as the answer the client holds.
    service.commit(service.snapshot.merge(renamed, service.clock.now)[0], seconds=0.4)
    service.clock.now += timedelta(seconds=2)  # the new answer's date is in the past now
    # Answered by another instance (or after a restart): no memory of the earlier answer,
    # the date of the change alone decides.
    current_runtime(service.app).answers = AnswerDates()
    after = fetch(service, url)
    assert after.body != before.body
    assert parsedate_to_datetime(after.modified) > parsedate_to_datetime(before.modified)
    assert conditional(service, url, before, "since") == 200
    assert conditional(service, url, after, "since") == 304
