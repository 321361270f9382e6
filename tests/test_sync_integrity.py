"""No upstream change may be lost (#20): regression tests against the fake LL2 for each way
the offset-paged changes pass lost items, passes that fail alone, SEQUENCE that never falls,
the safety-net audit, and a property test of random edits interleaved with paging.

Each test states the failure it pins; the paging scheme itself is described in
`icalfeed.sync.passes`'s module docstring.
"""

from __future__ import annotations

import copy
import itertools
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import settings_against
from fake_ll2 import FakeLL2, Fault, Seen
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from ll2data import rebased_launches, upstream_events
from synctools import Clock, make_syncer

from icalfeed import create_app
from icalfeed.base.config import Settings
from icalfeed.data.snapshot import Snapshot
from icalfeed.data.store import Store
from icalfeed.feeds.output import render_feed
from icalfeed.feeds.query import FeedQuery
from icalfeed.ll2.models import Event, Launch, parse_events
from icalfeed.sync.passes import Syncer
from icalfeed.sync.scheduler import SyncScheduler

START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STAMP = "%Y-%m-%dT%H:%M:%SZ"
CHANGES_PATH = "/2.3.0/events/"
_DIRS = itertools.count()


@pytest.fixture
def fake() -> Iterator[FakeLL2]:
    server = FakeLL2(upstream_events()).start()
    yield server
    server.stop()


def settings_for(fake: FakeLL2, tmp_path, **changes: Any) -> Settings:
    """`settings_against` in a data dir of its own (examples share one tmp_path)."""
    return settings_against(fake, tmp_path / f"var-{next(_DIRS)}", **changes)


def assert_same_as_upstream(snapshot: Snapshot, fake: FakeLL2) -> None:
    """Every event LL2 has is here, exactly as LL2 has it now."""
    assert set(snapshot.entries) == {f"event:{i}" for i in fake.events}
    for event_id, raw in fake.events.items():
        entry = snapshot.entries[f"event:{event_id}"]
        assert entry.item == Event.from_ll2(raw), (event_id, raw["name"])


def edit(fake: FakeLL2, event_id: int, stamp: datetime, note: str) -> None:
    """LL2 edits an event: a new name, a new `last_updated`."""
    event = copy.deepcopy(fake.events[event_id])
    event.update(
        name=f"{event['name'].split(' [')[0]} [{note}]", last_updated=stamp.strftime(STAMP)
    )
    fake.events[event_id] = event


def by_stamp(fake: FakeLL2) -> list[int]:
    """Event ids in LL2's `ordering=last_updated` order (ties by id, as the fake sorts)."""
    return sorted(fake.events, key=lambda i: (fake.events[i]["last_updated"], str(i)))


def restamp(fake: FakeLL2, width: int, base: datetime) -> None:
    """Give the events shared stamps: `width` events per second, in the current order."""
    for position, event_id in enumerate(by_stamp(fake)):
        moment = base + timedelta(seconds=position // width)
        fake.events[event_id] = {**fake.events[event_id], "last_updated": moment.strftime(STAMP)}


def sync_until_complete(syncer: Syncer, clock: Clock, hours: int = 48) -> int:
    """Hourly syncs until the backfill is complete; the hours it took."""
    for hour in range(hours):
        syncer.run()
        if syncer.store.snapshot.sync().backfill_complete:
            return hour + 1
        clock.advance(hours=1, seconds=1)
    raise AssertionError(f"backfill not complete after {hours} hours")


def settle(syncer: Syncer, clock: Clock, runs: int = 12) -> None:
    """Syncs at the changes cadence until the backfill is complete, then one more: edits
    made while the history was read are picked up by the changes pass after it."""
    for _ in range(runs):
        assert syncer.run().error is None
        if syncer.store.snapshot.sync().backfill_complete:
            clock.advance(minutes=21)
            assert syncer.run().ok
            return
        clock.advance(minutes=21)
    raise AssertionError(f"backfill not complete after {runs} runs")


# ------------------------------------------------------------------ 1. a moving order


def test_an_item_edited_between_two_page_requests_skips_nothing(fake, tmp_path):
    """An event read on page 1 and edited before page 2 jumps to the end of the order; with
    offset paging the first item of page 2 slid onto page 1 and was never read. The history
    walks down by stamp: an item not read yet and edited now jumps above it, to the changes
    pass, and one already read moves up, to be read again by the changes pass."""
    order = by_stamp(fake)
    early, late, boundary = order[0], order[-1], order[-101]
    edited = []

    def between_pages(seen: Seen) -> None:
        history = [r for r in fake.requests if r.params.get("ordering") == "-last_updated"]
        if len(history) == 1 and not edited:
            edit(fake, early, START, "edited mid-backfill, not read yet")
            edit(fake, late, START, "edited mid-backfill, read already")
            edited.append(early)

    fake.on_request = between_pages
    clock = Clock(START)
    syncer = make_syncer(settings_for(fake, tmp_path), clock)
    settle(syncer, clock)
    assert edited and f"event:{boundary}" in syncer.store.snapshot.entries
    assert_same_as_upstream(syncer.store.snapshot, fake)


# ------------------------------------------------------------ 2. ties at a page boundary


@pytest.mark.parametrize("seed", range(5))
def test_ties_in_an_unstable_order_at_page_boundaries(fake, tmp_path, seed):
    """LL2's database orders equal stamps differently on every query: two tied items
    straddling a page boundary could both land on one page and the other never come."""
    restamp(fake, 7, datetime(2024, 1, 1, tzinfo=UTC))  # boundaries 100, 200 fall in ties
    fake.unstable_ties = random.Random(seed)
    clock = Clock(START)
    syncer = make_syncer(settings_for(fake, tmp_path), clock)
    settle(syncer, clock)
    assert_same_as_upstream(syncer.store.snapshot, fake)


# ------------------------------------------------- 3. a tie group larger than one pass


def test_a_bulk_edit_bigger_than_a_pass_completes_at_a_low_budget(fake, tmp_path):
    """250 events stamped in one second: the backfill used to re-read the same first pages
    every pass and never complete at 2 requests an hour."""
    order = by_stamp(fake)
    bulk = "2026-11-01T00:00:00Z"
    for event_id in order[7:]:
        fake.events[event_id] = {**fake.events[event_id], "last_updated": bulk}
    fake.unstable_ties = random.Random(1)
    settings = settings_for(fake, tmp_path, requests_per_hour=2)
    clock = Clock(START)
    syncer = make_syncer(settings, clock)
    hours = sync_until_complete(syncer, clock)
    assert hours <= 14  # a page every other hour: below the cadence, it takes turns
    assert_same_as_upstream(syncer.store.snapshot, fake)
    tie_requests = [r for r in fake.requests if r.params.get("ordering") == "id"]
    assert tie_requests and all(r.params["last_updated__gte"] == bulk for r in tie_requests)


def test_items_leaving_a_tie_group_mid_walk_do_not_hide_others(fake, tmp_path):
    """Inside a bulk-edited second, read by offset in id order, an item edited again leaves
    the group and every later one moves up: the walk backs up by LL2's count."""
    bulk = "2026-11-01T00:00:00Z"
    for event_id in fake.events:
        fake.events[event_id] = {**fake.events[event_id], "last_updated": bulk}
    ids = sorted(fake.events)
    left: list[int] = []

    def mid_walk(seen: Seen) -> None:
        if seen.params.get("ordering") == "id" and seen.params.get("offset") == "100" and not left:
            for event_id in ids[:5]:  # already read, now edited: they leave the group
                edit(fake, event_id, START, "left the group")
                left.append(event_id)

    fake.on_request = mid_walk
    clock = Clock(START)
    syncer = make_syncer(settings_for(fake, tmp_path), clock)
    settle(syncer, clock)
    assert left
    assert_same_as_upstream(syncer.store.snapshot, fake)


# --------------------------------------------------- 4. one broken endpoint starves all


@pytest.mark.parametrize(
    "fault",
    [Fault(500), Fault(200, b'{"detail": "no results here"}')],
    ids=["http-500", "no-results"],
)
def test_a_broken_launch_window_never_stops_the_event_backfill(tmp_path, fault):
    """/launches/upcoming/ failing on every request was first in line each run and raised,
    so no other pass ran: after 6 hours the event backfill had not started. (The history now
    takes only spare requests, about one an hour beside both cadences and the failing
    reconcile's retries: 12 hours for 4 pages.)"""
    upstream = FakeLL2(upstream_events(), launches=rebased_launches(START)).start()
    try:
        upstream.broken["/2.3.0/launches/upcoming/"] = fault
        settings = settings_for(upstream, tmp_path, launches=True)
        clock = Clock(START)
        scheduler = SyncScheduler(make_syncer(settings, clock), tick_seconds=60)
        while clock.now < START + timedelta(hours=12):
            scheduler.run_once()
            clock.advance(seconds=scheduler.next_delay())
        snapshot = scheduler.syncer.store.snapshot
        assert snapshot.sync(Event.kind).backfill_complete
        assert snapshot.count(Event.kind) == len(upstream.events)
        assert snapshot.sync(Launch.kind).backfill_complete  # its changes pass works
        failing = snapshot.sync(Launch.kind).failing
        assert set(failing) == {"reconcile"} and failing["reconcile"].failures >= 3
        assert snapshot.sync(Event.kind).failing == {}
        # It backs off alone: far fewer tries than the 720 scheduler ticks of 12 hours.
        tries = [r for r in upstream.requests if r.path == "/2.3.0/launches/upcoming/"]
        assert 3 <= len(tries) <= 20
        # /healthz names the pass that fails, and what is wrong with it.
        health = create_app(settings, start_sync=False).test_client().get("/healthz").json
        reconcile = health["streams"]["launch"]["failing"]["reconcile"]
        assert reconcile["error"].split(":")[0] in ("http-500", "bad-shape")
        assert health["streams"]["event"]["failing"] == {}
    finally:
        upstream.stop()


# --------------------------------------------------------- 5. no overlap on the mark


def test_an_edit_visible_late_just_below_the_watermark_is_read(fake, tmp_path):
    """A late commit (or LL2 servers whose clocks disagree) shows an edit stamped just below
    the watermark after the pass moved past it: a past event was skipped for good."""
    clock = Clock(START)
    syncer = make_syncer(settings_for(fake, tmp_path), clock)
    assert syncer.run().ok
    watermark = datetime.strptime(syncer.store.snapshot.sync().watermark, STAMP)
    past = next(i for i in by_stamp(fake) if fake.events[i]["date"] < "2025")
    edit(fake, past, watermark.replace(tzinfo=UTC) - timedelta(minutes=2), "late")
    clock.advance(minutes=21)
    assert syncer.run().ok
    assert syncer.store.snapshot.entries[f"event:{past}"].item.name.endswith("[late]")
    assert_same_as_upstream(syncer.store.snapshot, fake)


def test_an_item_stamped_in_the_future_does_not_hide_later_edits(fake, tmp_path):
    """One item stamped ahead of our clock (LL2's clock running fast) must not lift the
    watermark past now, or every edit made meanwhile sorts below it and is skipped."""
    clock = Clock(START)
    syncer = make_syncer(settings_for(fake, tmp_path), clock)
    order = by_stamp(fake)
    edit(fake, order[0], START + timedelta(days=2), "from the future")
    assert syncer.run().ok
    assert syncer.store.snapshot.sync().watermark <= START.strftime(STAMP)
    edit(fake, order[1], START + timedelta(minutes=5), "ordinary")
    clock.advance(minutes=21)
    assert syncer.run().ok
    assert_same_as_upstream(syncer.store.snapshot, fake)


def test_a_walk_stopped_near_the_present_keeps_its_overlap_when_it_ends_later(fake, tmp_path):
    """A changes walk that runs out of budget near the present and ends in a later run must
    not mark past where it stopped: edits landing in that moment (a bulk edit still being
    written) are re-read by the next pass's overlap, not left to the audit."""
    order = by_stamp(fake)
    for position, event_id in enumerate(order):  # the whole history edited in the last minutes
        moment = START - timedelta(minutes=5) + timedelta(seconds=position)
        fake.events[event_id] = {**fake.events[event_id], "last_updated": moment.strftime(STAMP)}
    clock = Clock(START)
    syncer = make_syncer(settings_for(fake, tmp_path, requests_per_hour=2), clock)
    syncer.run()
    stopped = syncer.store.snapshot.sync().changes
    assert not stopped.done and stopped.cap == START.strftime(STAMP)
    edit(fake, order[0], START + timedelta(minutes=30), "after the stop")
    for _hour in range(12):  # until that walk ends
        clock.advance(hours=1, seconds=1)
        syncer.run()
        if syncer.store.snapshot.sync().changes.done:
            break
    assert syncer.store.snapshot.sync().watermark <= START.strftime(STAMP)
    assert syncer.store.snapshot.sync().changes.cap is None
    sync_until_complete(syncer, clock)
    settle(syncer, clock)
    assert_same_as_upstream(syncer.store.snapshot, fake)


# --------------------------------------------------------------- SEQUENCE never falls


def sequence_in_feed(syncer: Syncer, uid_part: str, now: datetime) -> int:
    query = FeedQuery.from_string(
        "start=1950-01-01&include=events,launches", syncer.store.snapshot.catalog
    )
    body = render_feed("ics", syncer.store.snapshot, query, now, 5000).body
    (vevent,) = [v for v in Calendar.from_ical(body).walk("VEVENT") if uid_part in str(v["UID"])]
    return int(vevent["SEQUENCE"])


def test_sequence_goes_on_after_a_pruned_item_returns(fake, tmp_path):
    """An event removed upstream stays 7 days as CANCELLED, then is pruned; when it came
    back its SEQUENCE restarted at 0, below what calendars hold, so they ignored it."""
    settings = settings_for(fake, tmp_path)
    clock = Clock(START)
    syncer = make_syncer(settings, clock)
    syncer.run()
    event_id = 384  # upcoming (2026-12-24)
    original = copy.deepcopy(fake.events[event_id])
    moved = {**original, "date": "2026-12-26T00:00:00Z", "last_updated": "2026-11-25T12:05:00Z"}
    fake.upsert(moved)
    clock.advance(minutes=21)
    syncer.run()
    fake.remove(event_id)
    clock.advance(hours=1, minutes=1)
    syncer.run()
    removed = syncer.store.snapshot.entries[f"event:{event_id}"]
    assert removed.removed_at is not None and removed.sequence == 2
    clock.advance(days=8)
    syncer.run()
    assert f"event:{event_id}" not in syncer.store.snapshot.entries
    # A restart in between: the remembered sequence is on disk.
    store = Store(settings, clock=clock)
    store.load()
    syncer = make_syncer(settings, clock, store)
    fake.upsert({**moved, "last_updated": "2026-12-04T13:00:00Z"})
    clock.advance(hours=1, minutes=1)
    syncer.run()
    back = syncer.store.snapshot.entries[f"event:{event_id}"]
    assert back.removed_at is None and back.sequence == 3
    assert sequence_in_feed(syncer, f"event-{event_id}@", clock.now) == 3


def test_a_launch_status_flip_raises_the_sequence(tmp_path):
    """Go ↔ TBD switches STATUS between CONFIRMED and TENTATIVE, a significant change by
    RFC 5546 §2.1.4; SEQUENCE stayed put, so clients could keep the old status."""
    upstream = FakeLL2([], launches=rebased_launches(START)).start()
    try:
        settings = settings_for(upstream, tmp_path, launches=True)
        clock = Clock(START)
        syncer = make_syncer(settings, clock)
        syncer.run()
        launch_id = next(i for i, x in upstream.launches.items() if x["status"]["id"] == 1)
        key = f"launch:{launch_id}"
        assert syncer.store.snapshot.entries[key].sequence == 0
        for number, status in enumerate(
            [
                {"id": 2, "name": "To Be Determined", "abbrev": "TBD"},
                {"id": 1, "name": "Go", "abbrev": "Go"},
            ],
            start=1,
        ):
            clock.advance(minutes=11)
            launch = {**upstream.launches[launch_id], "status": status}
            launch["last_updated"] = clock.now.strftime(STAMP)
            upstream.launches[launch_id] = launch
            syncer.run()
            entry = syncer.store.snapshot.entries[key]
            assert entry.sequence == number, status
            assert sequence_in_feed(syncer, launch_id, clock.now) == number
        clock.advance(minutes=11)
        upstream.launches[launch_id] = {**upstream.launches[launch_id], "probability": 42}
        upstream.launches[launch_id]["last_updated"] = clock.now.strftime(STAMP)
        syncer.run()
        assert syncer.store.snapshot.entries[key].sequence == 2  # not significant
    finally:
        upstream.stop()


# ------------------------------------------------------------- the safety-net audit


def test_the_audit_repairs_what_a_glitch_left_behind(fake, tmp_path):
    """Whatever went missing or stale (a past bug, an LL2 glitch) is repaired by the slow
    re-read within a cycle: one page an hour, only with requests to spare."""
    settings = settings_for(fake, tmp_path, audit_minutes=60)
    clock = Clock(START)
    syncer = make_syncer(settings, clock)
    syncer.run()
    snapshot = syncer.store.snapshot
    past = [i for i in by_stamp(fake) if fake.events[i]["date"] < "2024"]
    lost, stale = past[:3], past[-1]
    entries = {k: e for k, e in snapshot.entries.items() if k not in {f"event:{i}" for i in lost}}
    old = copy.deepcopy(fake.events[stale])
    old.update(name="Stale copy", last_updated="2000-01-01T00:00:00Z")
    ((item, record),) = parse_events([old]).items
    entries[f"event:{stale}"] = entries[f"event:{stale}"].changed(item=item, record=record)
    syncer.store.commit(replace(snapshot, entries=entries))
    audited = []
    for _hour in range(12):
        clock.advance(hours=1, seconds=1)
        before = len(fake.requests)
        syncer.run()
        audited += [
            r
            for r in fake.requests[before:]
            if r.params.get("ordering") == "last_updated"
            and r.params.get("last_updated__gte", "") < "2026-11"
        ]
        try:
            assert_same_as_upstream(syncer.store.snapshot, fake)
            break
        except AssertionError:
            continue
    assert_same_as_upstream(syncer.store.snapshot, fake)
    assert 1 <= len(audited) <= 8  # 257 events: three pages, the seconds they end in, the tail
    state = syncer.store.snapshot.sync()
    assert state.audited_at is not None


def test_the_audit_only_takes_a_spare_request(fake, tmp_path):
    """The audit runs last and only with a request the due passes left unused."""
    settings = settings_for(fake, tmp_path, audit_minutes=60)
    clock = Clock(START)
    syncer = make_syncer(settings, clock)
    syncer.run()
    phases: list[str] = []
    syncer.progress = lambda progress: phases.append(progress.phase)
    budget = syncer.client.budget
    # 4: the reconcile and changes pass now, and the two changes passes due in the hour.
    budget.limit = 4
    clock.advance(minutes=61)
    syncer.run()
    assert phases == ["upcoming events", "changed events"]
    budget.limit = 5  # one to spare
    clock.advance(minutes=61)
    syncer.run()
    assert phases[2:] == ["upcoming events", "changed events", "audited events"]
    assert budget.status().remaining == 2  # kept for the changes passes at +20 and +40


# ------------------------------------------------------------------- property test


@st.composite
def edit_plans(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "width": draw(st.sampled_from([1, 3, 50, 120])),
        "unstable": draw(st.booleans()),
        "edits": draw(
            st.lists(
                st.tuples(
                    st.integers(1, 8),  # before which request of the sync
                    st.integers(0, 256),  # which event, by position in the stamp order
                    st.sampled_from(["edit", "late"]),
                ),
                max_size=12,
            )
        ),
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    print_blob=True,
)
@given(plan=edit_plans())
# Found by a fresh run: an item edited, read, then edited again "late".
@example(plan={"width": 1, "unstable": False, "edits": [(1, 0, "edit"), (3, 0, "late")]})
def test_property_random_edits_interleaved_with_paging(fake, tmp_path, plan):
    """Any edits, at any moment of a backfill over any tie structure: after the next
    incremental sync the snapshot equals LL2's data."""
    fake.events = {e["id"]: e for e in upstream_events()}
    fake.requests.clear()
    restamp(fake, plan["width"], datetime(2024, 1, 1, tzinfo=UTC))
    fake.unstable_ties = random.Random(7) if plan["unstable"] else None
    order = by_stamp(fake)
    upstream_clock = [START]
    pending = sorted(plan["edits"])

    def interleave(seen: Seen) -> None:
        number = len(fake.requests)
        while pending and pending[0][0] <= number:
            _, position, kind = pending.pop(0)
            upstream_clock[0] += timedelta(seconds=7)
            stamp = upstream_clock[0] - (timedelta(minutes=4) if kind == "late" else timedelta())
            # Visible late or not, a save of a row is stamped after the save it replaced
            # (else the older save would be what the row holds).
            before = datetime.strptime(fake.events[order[position]]["last_updated"], STAMP)
            stamp = max(stamp, before.replace(tzinfo=UTC) + timedelta(seconds=1))
            edit(fake, order[position], stamp, f"{kind} {number}")

    fake.on_request = interleave
    clock = Clock(START)
    syncer = make_syncer(settings_for(fake, tmp_path), clock)
    syncer.run()
    fake.on_request = None
    clock.advance(minutes=21)
    settle(syncer, clock)  # what the edits left to read, at the incremental cadence
    assert_same_as_upstream(syncer.store.snapshot, fake)
