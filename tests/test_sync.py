"""Syncing against the fake LL2: backfill within the budget, incremental changes,
removals, failures that keep what we had."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fake_ll2 import Fault
from icalendar import Calendar
from synctools import Clock, make_syncer

from icalfeed import create_app
from icalfeed.base.locks import file_lock
from icalfeed.data.store import read_snapshot


def overlapped(watermark: str, settings) -> str:
    """Where a changes pass after a finished one starts: the overlap below the watermark."""
    start = datetime.fromisoformat(watermark) - timedelta(minutes=settings.sync_overlap_minutes)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_full_backfill_of_the_fixtures_takes_five_requests(online_settings, fake_ll2):
    syncer = make_syncer(online_settings, Clock())
    report = syncer.run()
    # 1 upcoming page, 1 for the changes since now, 3 history pages of 100 (the budget has
    # room for them beside the changes passes due in the coming hour).
    assert report.ok and report.requests == 5
    assert len(fake_ll2.requests) == 5
    snapshot = syncer.store.snapshot
    assert snapshot.source == "snapshot" and snapshot.sync().backfill_complete
    assert set(snapshot.entries) == {f"event:{i}" for i in fake_ll2.events}
    on_disk = read_snapshot(online_settings.data_dir / "snapshot.json")
    assert on_disk.version == snapshot.version


def test_backfill_spreads_over_hours_and_only_adds(online_settings, fake_ll2):
    settings = replace(online_settings, requests_per_hour=2)
    clock = Clock()
    syncer = make_syncer(settings, clock)
    counts, hours = [], 0
    while not syncer.store.snapshot.sync().backfill_complete:
        before = len(fake_ll2.requests)
        syncer.run()
        syncer.run()  # a second attempt in the same hour spends nothing
        assert len(fake_ll2.requests) - before <= 2
        counts.append(len(syncer.store.snapshot.entries))
        clock.advance(hours=1, seconds=1)
        hours += 1
        assert hours < 10
    assert counts == sorted(counts) and counts[-1] == len(fake_ll2.events)
    # Too small a budget for the cadence: the history takes turns with the changes pass,
    # a page every other hour.
    assert hours == 6


def test_incremental_sync_asks_only_for_changes(online_settings, fake_ll2):
    clock = Clock()
    syncer = make_syncer(online_settings, clock)
    syncer.run()
    watermark = syncer.store.snapshot.sync().watermark
    version = syncer.store.snapshot.version
    changed = dict(fake_ll2.events[384])
    changed.update(date="2026-12-26T00:00:00Z", last_updated="2026-11-25T12:05:00Z")
    fake_ll2.upsert(changed)
    clock.advance(minutes=21)  # ICALFEED_INCREMENTAL_MINUTES defaults to 20
    fake_ll2.requests.clear()
    report = syncer.run()
    assert report.requests == 1
    params = fake_ll2.requests[0].params
    # The pass starts ICALFEED_SYNC_OVERLAP_MINUTES (10) below the newest change read.
    assert params["ordering"] == "last_updated"
    assert params["last_updated__gte"] == overlapped(watermark, online_settings)
    entry = syncer.store.snapshot.entries["event:384"]
    assert entry.item.start.day == 26 and entry.sequence == 1
    assert report.counts.changed == 1 and syncer.store.snapshot.version != version


def test_resync_of_unchanged_data_keeps_the_version(online_settings, fake_ll2):
    clock = Clock()
    syncer = make_syncer(online_settings, clock)
    syncer.run()
    version = syncer.store.snapshot.version
    clock.advance(hours=2)
    report = syncer.run()
    assert report.requests == 2 and report.counts.changed == 0
    assert syncer.store.snapshot.version == version


def test_an_event_gone_from_upcoming_is_cancelled_then_pruned(online_settings, fake_ll2):
    clock = Clock()
    syncer = make_syncer(online_settings, clock)
    syncer.run()
    fake_ll2.remove(384)  # Solar Orbiter Venus Flyby, 2026-12-24
    clock.advance(minutes=61)
    report = syncer.run()
    assert report.counts.removed == 1
    entry = syncer.store.snapshot.entries["event:384"]
    assert entry.removed_at == clock.now and entry.sequence == 1
    clock.advance(days=8)
    syncer.run()
    assert "event:384" not in syncer.store.snapshot.entries


def test_an_event_dated_back_into_the_past_moves_and_is_not_cancelled(online_settings, fake_ll2):
    clock = Clock()
    syncer = make_syncer(online_settings, clock)
    syncer.run()
    moved = dict(fake_ll2.events[384], date="2026-11-20T10:00:00Z")  # LL2 corrected the date
    moved["last_updated"] = "2026-11-25T12:30:00Z"
    fake_ll2.upsert(moved)
    fake_ll2.requests.clear()
    clock.advance(minutes=61)
    report = syncer.run()
    assert report.counts.removed == 0
    (recheck,) = [r for r in fake_ll2.requests if "id" in r.params]
    assert recheck.path == "/2.3.0/events/" and recheck.params["id"] == "384"
    entry = syncer.store.snapshot.entries["event:384"]
    assert entry.removed_at is None and entry.item.start.day == 20 and entry.sequence == 1


def test_failure_midway_keeps_the_pages_already_merged(online_settings, fake_ll2):
    syncer = make_syncer(online_settings, Clock())
    # upcoming page, changes since now, first history page fine, second history page fails
    fake_ll2.fail_request(4, Fault(502))
    report = syncer.run()
    assert report.error is not None and report.error.startswith("http-502")
    kept = len(syncer.store.snapshot.entries)
    assert 100 <= kept < len(fake_ll2.events)
    assert not syncer.store.snapshot.sync().backfill_complete
    on_disk = read_snapshot(online_settings.data_dir / "snapshot.json")
    assert len(on_disk.entries) == kept


@pytest.mark.parametrize(
    "fault",
    [Fault(500), Fault(429, headers={"Retry-After": "60"}), Fault(200, b"{trunc"), Fault(delay=3)],
    ids=["500", "429", "truncated", "timeout"],
)
def test_a_failed_sync_never_changes_the_served_snapshot(online_settings, fake_ll2, fault):
    clock = Clock()
    syncer = make_syncer(online_settings, clock)
    syncer.run()
    path = online_settings.data_dir / "snapshot.json"
    before_bytes = path.read_bytes()
    before = syncer.store.snapshot
    clock.advance(hours=2)
    fake_ll2.fail_next(fault)
    report = syncer.run()
    assert report.error is not None
    assert syncer.store.snapshot.version == before.version
    assert syncer.store.last_error == report.error
    assert json.loads(path.read_bytes())["version"] == json.loads(before_bytes)["version"]


def test_only_one_process_syncs_a_data_dir(online_settings, fake_ll2):
    syncer = make_syncer(online_settings, Clock())
    with file_lock(online_settings.data_dir / "sync.lock", blocking=False) as held:
        assert held
        report = syncer.run()
    assert report.not_run and "another process" in report.not_run
    assert fake_ll2.requests == []


def test_concurrent_feed_requests_never_reach_the_upstream(online_settings, fake_ll2):
    app = create_app(replace(online_settings, sync_tick_seconds=3600), start_sync=True)
    scheduler = app.extensions["icalfeed"].scheduler
    try:
        client = app.test_client()
        errors = []

        def poll():
            for _ in range(25):
                response = client.get("/events.ics?start=2019-01-01")
                if response.status_code != 200:
                    errors.append(response.status_code)

        threads = [threading.Thread(target=poll) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        # 200 feed requests; the upstream saw only the scheduler's own first sync.
        assert len(fake_ll2.requests) <= online_settings.requests_per_hour
        assert len(fake_ll2.requests) <= 5
    finally:
        scheduler.stop()


def test_synced_feed_reflects_the_upstream(online_settings, fake_ll2):
    # Synced just now: /healthz measures staleness against the real clock.
    syncer = make_syncer(online_settings, Clock(datetime.now(UTC)))
    syncer.run()
    app = create_app(online_settings, start_sync=False)
    body = app.test_client().get("/events.ics?start=2019-01-01").data
    uids = {str(e["UID"]) for e in Calendar.from_ical(body).walk("VEVENT")}
    assert uids == {f"ll2-event-{i}@icalfeed" for i in fake_ll2.events}
    health = app.test_client().get("/healthz").get_json()
    assert health["source"] == "snapshot" and health["status"] == "ok"


def test_scheduler_backs_off_after_failures_and_honours_retry_at(online_settings, fake_ll2):
    from icalfeed.sync.scheduler import MAX_BACKOFF_SECONDS, SyncScheduler

    clock = Clock()
    scheduler = SyncScheduler(make_syncer(online_settings, clock), tick_seconds=60)
    # All three passes fail in each of the first two runs (each pass fails alone, and the whole
    # scheduler slows down only when every pass it tried failed).
    fake_ll2.fail_next(*[Fault(500) for _ in range(6)])
    scheduler.run_once()
    assert scheduler.failures == 1 and scheduler.next_delay() == 120
    clock.advance(hours=2)
    scheduler.run_once()
    assert scheduler.failures == 2 and scheduler.next_delay() == 240
    clock.advance(hours=2)
    report = scheduler.run_once()
    assert report.ok and scheduler.failures == 0 and scheduler.next_delay() == 60
    scheduler.failures = 30
    assert scheduler.next_delay() == MAX_BACKOFF_SECONDS
    scheduler.failures = 0
    fake_ll2.fail_next(Fault(429, headers={"Retry-After": "1800"}))
    clock.advance(hours=2)
    scheduler.run_once()
    assert 1700 < scheduler.next_delay() <= 1800


def test_names_stay_resolvable_while_a_backfill_has_not_reached_them(online_settings, fake_ll2):
    settings = replace(online_settings, requests_per_hour=1)
    syncer = make_syncer(settings, Clock())
    syncer.run()  # one request: the upcoming window only, no Starship event in it
    snapshot = syncer.store.snapshot
    assert snapshot.source == "snapshot" and not any(
        p.slug == "spacex-starship" for e in snapshot.events for p in e.programs
    )
    app = create_app(settings, start_sync=False)
    response = app.test_client().get("/programs/spacex-starship.ics")
    assert response.status_code == 200
    assert Calendar.from_ical(response.data).walk("VEVENT") == []
    assert app.test_client().get("/events.ics?program=startship").status_code == 400


def test_a_retry_during_a_429_pause_keeps_the_error_visible(online_settings, fake_ll2):
    clock = Clock()
    syncer = make_syncer(online_settings, clock)
    fake_ll2.fail_next(Fault(429, headers={"Retry-After": "600"}))
    syncer.run()
    assert syncer.store.last_error.startswith("throttled")
    report = syncer.run(force=True)
    assert report.requests == 0 and syncer.store.last_error.startswith("throttled")
