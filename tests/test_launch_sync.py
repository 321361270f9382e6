"""Syncing launches beside events from a fake LL2 on loopback: one budget for both, each kind
fresh on its own schedule, incremental by `last_updated__gte`, removals only inside the
reconciled horizon."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from fake_ll2 import FakeLL2
from icalendar import Calendar
from ll2data import rebased_launches, upstream_events
from synctools import Clock, make_syncer

from icalfeed.base.config import Settings
from icalfeed.feeds.output import render_feed
from icalfeed.feeds.query import LAUNCHES_ONLY, FeedQuery
from icalfeed.sync.passes import Syncer

START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STAMP = "%Y-%m-%dT%H:%M:%SZ"


@pytest.fixture
def fake() -> FakeLL2:
    server = FakeLL2(upstream_events(), launches=rebased_launches(START)).start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path, fake) -> Settings:
    """The default schedule and budget (launches on), against this module's fake LL2."""
    (tmp_path / "var").mkdir()
    return Settings(
        upstream_url=fake.base_url, data_dir=tmp_path / "var", connect_timeout=2, read_timeout=2
    )


def synced(settings: Settings) -> tuple[Clock, Syncer]:
    """A syncer after a first sync at START run by hand (so the histories, small here, are
    read to the end at once with the default budget), and its clock."""
    clock = Clock(START)
    syncer = make_syncer(settings, clock)
    assert syncer.run(force=True).backfill_complete
    return clock, syncer


def launch_keys(syncer: Syncer) -> set[str]:
    return {k for k in syncer.store.snapshot.entries if k.startswith("launch:")}


def expected_keys(fake: FakeLL2, now: datetime, history_days: int | None = None) -> set[str]:
    floor = now - timedelta(days=history_days) if history_days else datetime.min.replace(tzinfo=UTC)
    return {
        f"launch:{x['id']}"
        for x in fake.launches.values()
        if datetime.fromisoformat(x["net"]) >= floor
    }


def launches_feed(syncer: Syncer, now: datetime) -> Calendar:
    snapshot = syncer.store.snapshot
    query = FeedQuery.from_string("start=2026-01-01", snapshot.catalog, LAUNCHES_ONLY)
    return Calendar.from_ical(render_feed("ics", snapshot, query, now, 2000).body)


def test_first_sync_reads_the_windows_and_changes_and_the_history_follows(settings, fake):
    """A fresh data dir: the upcoming windows and the changes from now on at once (one
    request each), the whole history (launches from 1957: no `net__gte`) from the requests
    the cadence leaves over, newest change first."""
    clock = Clock(START)
    syncer = make_syncer(settings, clock)
    report = syncer.run()
    assert report.ok, report.line()
    # The one request to spare this hour (beside 7 changes passes due) went to the history.
    assert len(fake.requests) == 5 and len(fake.requests_for("events")) == 3
    upcoming, changes = fake.requests_for("launches")  # one page each
    assert upcoming.path == "/2.3.0/launches/upcoming/"
    assert upcoming.params["net__lte"] == (START + timedelta(days=30)).strftime(STAMP)
    assert changes.params["ordering"] == "last_updated" and "net__gte" not in changes.params
    assert changes.params["last_updated__gte"] == "2026-11-25T11:50:00Z"  # now - overlap
    state = syncer.store.snapshot.sync("launch")
    assert not state.backfill_complete and state.history.stamp == START.strftime(STAMP)
    assert "history backfill still in progress" in report.line()
    for _ in range(8 * 60):  # the scheduler's one-minute ticks
        clock.advance(minutes=1)
        if syncer.run().backfill_complete:
            break
    history = [r for r in fake.requests if r.params.get("ordering") == "-last_updated"]
    assert {r.path for r in history} == {"/2.3.0/events/", "/2.3.0/launches/"}
    first = next(r for r in history if r.path == "/2.3.0/launches/")
    assert first.params["last_updated__lte"] == "2026-11-25T12:00:00.999999Z"
    assert "net__gte" not in first.params
    assert launch_keys(syncer) == expected_keys(fake, START)
    assert any(x["net"] < "2026-06" for x in fake.launches.values())  # the 200-day-old one
    state = syncer.store.snapshot.sync("launch")
    assert state.backfill_complete and state.history.done and state.history_left == 0
    assert clock.now - START < timedelta(hours=6)


def test_changed_launch_arrives_by_the_watermark_and_moves(settings, fake):
    clock, syncer = synced(settings)
    watermark = syncer.store.snapshot.sync("launch").watermark
    launch_id = next(iter(sorted(fake.launches)))
    moved = copy.deepcopy(fake.launches[launch_id])
    net = datetime.fromisoformat(moved["net"]) + timedelta(days=1)
    moved.update(
        net=net.strftime(STAMP),
        window_start=net.strftime(STAMP),
        window_end=(net + timedelta(hours=2)).strftime(STAMP),
        last_updated=(START + timedelta(minutes=5)).strftime(STAMP),
    )
    fake.launches[launch_id] = moved
    fake.requests.clear()
    clock.advance(minutes=11)  # launch changes are due (10 min), event changes not (20)
    report = syncer.run()
    assert report.ok and report.requests == 1
    (seen,) = fake.requests
    overlap = timedelta(minutes=settings.sync_overlap_minutes)
    start = (datetime.fromisoformat(watermark) - overlap).strftime(STAMP)
    assert seen.path == "/2.3.0/launches/" and seen.params["last_updated__gte"] == start
    entry = syncer.store.snapshot.entries[f"launch:{launch_id}"]
    assert entry.sequence == 1 and entry.item.net == net
    (vevent,) = [
        v for v in launches_feed(syncer, clock.now).walk("VEVENT") if launch_id in str(v["UID"])
    ]
    assert vevent.decoded("DTSTART") == net and int(vevent["SEQUENCE"]) == 1


def test_removal_counts_inside_the_horizon_only(settings, fake):
    clock, syncer = synced(settings)
    soon = _delete_launch_at(fake, START + timedelta(days=5))
    later = _delete_launch_at(fake, START + timedelta(days=40))
    clock.advance(minutes=61)
    report = syncer.run()
    assert report.ok and report.counts.removed == 1
    entries = syncer.store.snapshot.entries
    assert entries[f"launch:{soon}"].removed_at == clock.now
    assert entries[f"launch:{later}"].removed_at is None  # beyond the horizon: unknown
    statuses = {
        str(v["UID"]): str(v["STATUS"]) for v in launches_feed(syncer, clock.now).walk("VEVENT")
    }
    assert statuses[f"ll2-launch-{soon}@icalfeed"] == "CANCELLED"
    clock.advance(days=8)
    syncer.run()
    assert f"launch:{soon}" not in syncer.store.snapshot.entries


def test_a_launch_slipping_past_the_horizon_moves_and_is_not_cancelled(settings, fake):
    clock, syncer = synced(settings)
    deleted = _delete_launch_at(fake, START + timedelta(days=11))
    slipping = _launch_at(fake, START + timedelta(days=26))
    net = START + timedelta(days=40)
    fake.launches[slipping] = {
        **fake.launches[slipping],
        "net": net.strftime(STAMP),
        "window_start": net.strftime(STAMP),
        "window_end": (net + timedelta(hours=1)).strftime(STAMP),
        "last_updated": (START + timedelta(minutes=50)).strftime(STAMP),
    }
    fake.requests.clear()
    clock.advance(minutes=61)  # the reconcile runs before the changes pass
    report = syncer.run()
    assert report.ok and report.counts.removed == 1
    recheck = next(r for r in fake.requests if "id" in r.params)
    assert recheck.path == "/2.3.0/launches/"
    assert recheck.params["id"] == f"{deleted},{slipping}"  # soonest first
    entries = syncer.store.snapshot.entries
    assert entries[f"launch:{deleted}"].removed_at == clock.now
    moved = entries[f"launch:{slipping}"]
    assert moved.removed_at is None and moved.item.net == net
    assert moved.sequence == 1  # one change (the move), not a removal and a comeback
    statuses = {
        str(v["UID"]): str(v["STATUS"]) for v in launches_feed(syncer, clock.now).walk("VEVENT")
    }
    assert statuses[f"ll2-launch-{slipping}@icalfeed"] != "CANCELLED"
    assert statuses[f"ll2-launch-{deleted}@icalfeed"] == "CANCELLED"


def test_no_removal_without_a_request_left_to_confirm_it(settings, fake):
    clock, syncer = synced(settings)
    deleted = _delete_launch_at(fake, START + timedelta(days=11))
    clock.advance(minutes=61)
    budget = syncer.client.budget
    while budget.status().remaining > 2:  # the two reconciles, nothing to recheck with
        budget.try_spend()
    report = syncer.run()
    assert report.out_of_budget and report.counts.removed == 0
    assert syncer.store.snapshot.entries[f"launch:{deleted}"].removed_at is None
    # Not retried each minute (each freed request would go to the window again): next hour.
    assert syncer.store.snapshot.sync("launch").reconciled_at == clock.now
    clock.advance(minutes=61)
    assert syncer.run().counts.removed == 1
    assert syncer.store.snapshot.entries[f"launch:{deleted}"].removed_at == clock.now


def test_a_recheck_short_of_budget_waits_an_hour_instead_of_starving_the_rest(settings, fake):
    """The hour's 12 requests spread 5 minutes apart, so they come free one at a time: each
    must not go to re-reading the window (whose recheck never gets a request of its own)."""
    clock, syncer = synced(settings)
    deleted = _delete_launch_at(fake, START + timedelta(days=11))
    clock.advance(minutes=61)
    spent = [clock.timestamp() - 3600 + 60 + 300 * i for i in range(12)]
    (settings.data_dir / "budget.json").write_text(
        json.dumps({"requests": spent, "paused_until": None})
    )
    fake.requests.clear()
    for _ in range(180):
        syncer.run()
        clock.advance(minutes=1)
    windows = [r for r in fake.requests if r.path == "/2.3.0/launches/upcoming/"]
    changes = [r for r in fake.requests if r.path == "/2.3.0/launches/" and "id" not in r.params]
    assert len(windows) <= 4 and len(changes) >= 12
    assert syncer.store.snapshot.entries[f"launch:{deleted}"].removed_at is not None


@pytest.mark.parametrize("copy_by_id", ["unusable", "older"])
def test_an_item_ll2_still_has_but_sends_stale_is_asked_after_once_a_day(
    settings, fake, copy_by_id
):
    clock, syncer = synced(settings)
    launch = fake.launches[_launch_at(fake, START + timedelta(days=11))]
    if copy_by_id == "unusable":  # its NET withdrawn: out of the window, and no date to use
        fake.launches[launch["id"]] = {
            **launch,
            "net": None,
            "last_updated": "2026-11-25T12:30:00Z",
        }
    else:  # moved away, but the copy by id is older than ours (a lagging cache upstream)
        fake.launches[launch["id"]] = {**launch, "net": "2027-06-01T00:00:00Z"}
        fake.launches[launch["id"]]["last_updated"] = "2000-01-01T00:00:00Z"
    fake.requests.clear()
    for _ in range(6):  # six hourly reconciles
        clock.advance(minutes=61)
        syncer.run()
    assert len([r for r in fake.requests if "id" in r.params]) == 1
    assert syncer.store.snapshot.entries[f"launch:{launch['id']}"].removed_at is None


def test_if_ll2_ignores_the_id_filter_nothing_is_removed(settings, fake, monkeypatch):
    clock, syncer = synced(settings)
    deleted = _delete_launch_at(fake, START + timedelta(days=11))
    listing = fake.listing
    unfiltered = dict(fake.launches)  # every launch answers any id=
    monkeypatch.setattr(
        fake,
        "listing",
        lambda path, params: (
            {"count": len(unfiltered), "next": None, "results": list(unfiltered.values())}
            if "id" in params
            else listing(path, params)
        ),
    )
    clock.advance(minutes=61)
    report = syncer.run()
    assert report.ok and report.counts.removed == 0
    assert syncer.store.snapshot.entries[f"launch:{deleted}"].removed_at is None


def history_upstream(now: datetime, launches: int) -> FakeLL2:
    """The fixture events, and `launches` launches: the rebased ten upcoming and copies of
    them as past launches, one every 9 days back from `now`, last edited at their NET."""
    base = rebased_launches(now)
    made = base[:10]
    for number in range(launches - len(made)):
        launch = copy.deepcopy(base[number % 10])
        launch["id"] = f"10000000-0000-4000-8000-{number:012d}"
        launch["slug"] = f"{launch['slug']}-{number}"
        net = now - timedelta(days=2 + 9 * number)
        for name, shift in (("net", 0), ("window_start", 0), ("window_end", 2)):
            launch[name] = (net + timedelta(hours=shift)).strftime(STAMP)
        launch["status"] = {"id": 3, "name": "Launch Successful", "abbrev": "Success"}
        launch["last_updated"] = (net + timedelta(hours=1)).strftime(STAMP)
        made.append(launch)
    return FakeLL2(upstream_events(), launches=made).start()


def test_the_backfill_never_delays_the_cadence_and_completes_within_the_budget(settings):
    """Free-tier budget, simulated clock, a fresh data dir and 6 pages of launch history
    beside 3 of events: no sliding hour over 12 requests; launch changes read every 10
    minutes and event changes every 20 from the first minute, the backfill running or not; a
    scrub made mid-backfill shows within that cadence; the backfill completes; the audit
    waits for it."""
    upstream = history_upstream(START, 600)
    try:
        settings = replace(settings, upstream_url=upstream.base_url)
        clock = Clock(START)
        syncer = make_syncer(settings, clock)
        sent: list[tuple[datetime, str, str]] = []  # when, path, ordering
        upstream.on_request = lambda seen: sent.append(
            (clock.now, seen.path, seen.params.get("ordering", ""))
        )
        audits: list[datetime] = []  # pages of the safety net's slow re-read
        syncer.progress = lambda p: audits.append(clock.now) if p.phase.startswith("aud") else 0
        scrubbed = _launch_at(upstream, START + timedelta(days=6))
        new_net = START + timedelta(days=8)
        seen_at = completed_at = None
        for minute in range(14 * 60):
            if minute == 95:  # a scrub, while the history is being read
                upstream.launches[scrubbed] = {
                    **upstream.launches[scrubbed],
                    "net": new_net.strftime(STAMP),
                    "status": {"id": 5, "name": "On Hold", "abbrev": "Hold"},
                    "last_updated": clock.now.strftime(STAMP),
                }
            syncer.run()
            entry = syncer.store.snapshot.entries[f"launch:{scrubbed}"]
            if minute >= 95 and seen_at is None and entry.item.net == new_net:
                seen_at = minute
            if completed_at is None and syncer.store.snapshot.sync("launch").backfill_complete:
                completed_at = minute
            clock.advance(minutes=1)
        assert completed_at is not None and seen_at is not None
        assert seen_at - 95 <= 10  # within the launch changes cadence
        snapshot = syncer.store.snapshot
        assert snapshot.sync("event").backfill_complete
        assert launch_keys(syncer) == expected_keys(upstream, START)
        assert snapshot.count("launch") == 600 and snapshot.count("event") == len(upstream.events)
        times = [t for t, _, _ in sent]
        for when in times:
            assert len([t for t in times if when <= t < when + timedelta(hours=1)]) <= 12
        for path, most in (("/2.3.0/launches/", 10), ("/2.3.0/events/", 20)):
            changes = [t for t, p, order in sent if p == path and order == "last_updated"]
            gaps = [(b - a).total_seconds() / 60 for a, b in pairwise(changes)]
            assert max(gaps) <= most, (path, gaps)
        for path in ("/2.3.0/launches/upcoming/", "/2.3.0/events/upcoming/"):
            windows = [t for t, p, _ in sent if p == path]
            assert max((b - a).total_seconds() / 60 for a, b in pairwise(windows)) <= 60
        history = [t for t, _, order in sent if order == "-last_updated"]
        assert len(history) >= 9  # 6 pages of launches, 3 of events
        assert all(t >= START + timedelta(minutes=completed_at) for t in audits)
        print(f"backfill of {len(history)} pages completed after {completed_at} minutes")
    finally:
        upstream.stop()


def test_a_small_budget_is_shared_so_launches_are_not_starved(settings, fake):
    """Below what the cadence needs (4 an hour, where it wants 11) the histories take turns
    with the changes passes, the one that waited longest first, and both complete."""
    assert len(fake.events) > 200  # 3 pages of event history
    small = replace(settings, requests_per_hour=4)
    clock = Clock(START)
    syncer = make_syncer(small, clock)
    syncer.run()
    # 2 reconciles, then the 2 requests left: each kind's changes pass.
    assert len(fake.requests_for("launches")) == 2 and len(fake.requests_for("events")) == 2
    for _hour in range(12):
        clock.advance(hours=1, seconds=1)
        syncer.run()
        if syncer.store.snapshot.sync("event").backfill_complete:
            break
    assert syncer.store.snapshot.sync("launch").backfill_complete
    assert syncer.store.snapshot.sync("event").backfill_complete
    assert launch_keys(syncer) == expected_keys(fake, START)
    changes = [
        r for r in fake.requests_for("launches") if r.params.get("ordering") == "last_updated"
    ]
    assert len(changes) >= 3  # the launch changes pass was never starved


def test_a_history_cap_keeps_older_launches_out(settings, fake):
    """ICALFEED_LAUNCH_HISTORY_DAYS, when set, still limits launches to recent ones."""
    capped = replace(settings, launch_history_days=60)
    syncer = make_syncer(capped, Clock(START))
    assert syncer.run(force=True).backfill_complete
    assert launch_keys(syncer) == expected_keys(fake, START, 60)
    assert len(launch_keys(syncer)) < len(fake.launches)  # the 200-day-old one stays out
    launch_requests = fake.requests_for("launches")
    walks = [r for r in launch_requests if "ordering" in r.params]
    assert walks and all(r.params["net__gte"] == "2026-09-26T12:00:00Z" for r in walks)
    # Lifting the cap later reads the rest of the history; the changes pass goes on.
    watermark = syncer.store.snapshot.sync("launch").watermark
    clock = Clock(START + timedelta(minutes=61))
    syncer = make_syncer(settings, clock)
    assert syncer.run(force=True).backfill_complete
    assert launch_keys(syncer) == expected_keys(fake, START)
    assert syncer.store.snapshot.sync("launch").watermark >= watermark


def test_launches_can_be_switched_off(settings, fake):
    syncer = make_syncer(replace(settings, launches=False), Clock(START))
    assert syncer.run().ok
    assert fake.requests_for("launches") == [] and not launch_keys(syncer)


def _launch_at(fake: FakeLL2, when: datetime) -> str:
    """The id of the fake's launch whose NET is nearest `when`."""
    return min(
        fake.launches.values(),
        key=lambda x: abs(datetime.fromisoformat(x["net"]) - when),
    )["id"]


def _delete_launch_at(fake: FakeLL2, when: datetime) -> str:
    """Delete the fake's launch whose NET is nearest `when` upstream; its id."""
    launch_id = _launch_at(fake, when)
    del fake.launches[launch_id]
    return launch_id
