"""The whole launch history (#16, part 1) and the story of every date (part 3) through
restarts, an upgrade from the 60-day history, /healthz and Redis sharing."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

from conftest import validate_ics
from fake_ll2 import FakeLL2
from icalendar import Calendar
from ll2data import detailed_launch, rebased_launches, upstream_events
from redistools import instance, needs_redis
from synctools import Clock, make_syncer

from icalfeed import create_app
from icalfeed.base.config import Settings
from icalfeed.data.store import Store

START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STAMP = "%Y-%m-%dT%H:%M:%SZ"


def both_kinds(tmp_path, fake: FakeLL2, **changes) -> Settings:
    (tmp_path / "var").mkdir(exist_ok=True)
    return Settings(
        upstream_url=fake.base_url,
        data_dir=tmp_path / "var",
        connect_timeout=2,
        read_timeout=2,
        **changes,
    )


def test_an_interrupted_backfill_resumes_after_a_restart_where_it_stopped(tmp_path):
    upstream = FakeLL2(upstream_events(), launches=rebased_launches(START)).start()
    try:
        settings = both_kinds(tmp_path, upstream, requests_per_hour=6)
        clock = Clock(START)
        syncer = make_syncer(settings, clock)
        syncer.run()  # the history takes turns with the changes passes: a page each
        clock.advance(hours=1, seconds=1)
        state = syncer.store.snapshot.sync("event")
        assert not state.backfill_complete and state.history_read >= 100
        reached = state.history.stamp
        assert reached is not None and reached < START.strftime(STAMP)
        # A new process on the same data dir goes on from the saved position.
        store = Store(settings, clock=clock)
        store.load()
        assert store.snapshot.sync("event").history == state.history
        upstream.requests.clear()
        restarted = make_syncer(settings, clock, store)
        for _ in range(12):
            restarted.run()
            if restarted.store.snapshot.sync("event").backfill_complete:
                break
            clock.advance(hours=1, seconds=1)
        history = [r for r in upstream.requests_for("events") if "-last_updated" in str(r.params)]
        assert history[0].params["last_updated__lte"] <= reached.removesuffix("Z") + ".999999Z"
        assert restarted.store.snapshot.count("event") == len(upstream.events)
    finally:
        upstream.stop()


def test_a_data_dir_from_the_60_day_days_reads_the_rest_of_the_launch_history(tmp_path):
    """Snapshots written before the history pass existed: events had their whole history,
    launches only 60 days. The event history is kept as done; the launch history begins,
    and the changes pass of both goes on from its watermark."""
    upstream = FakeLL2(upstream_events(), launches=rebased_launches(START)).start()
    try:
        settings = both_kinds(tmp_path, upstream, launch_history_days=60)
        clock = Clock(START)
        syncer = make_syncer(settings, clock)
        assert syncer.run(force=True).backfill_complete
        path = settings.data_dir / "snapshot.json"
        data = json.loads(path.read_text())
        for state in data["streams"].values():  # as the previous version wrote them
            for name in ("history", "history_days", "history_read", "history_left"):
                state.pop(name)
            state.pop("history_at")
        path.write_text(json.dumps(data))
        watermarks = {k: s["changes"]["stamp"] for k, s in data["streams"].items()}
        old = Store(settings, clock=clock).load()
        assert old.sync("event").backfill_complete and old.sync("event").history.done
        assert not old.sync("launch").backfill_complete
        clock.advance(hours=1, seconds=1)
        upgraded = make_syncer(both_kinds(tmp_path, upstream), clock)
        upstream.requests.clear()
        assert upgraded.run(force=True).backfill_complete
        walked = {r.path for r in upstream.requests if r.params.get("ordering") == "-last_updated"}
        assert walked == {"/2.3.0/launches/"}  # the events' history is not read again
        assert upgraded.store.snapshot.count("launch") == len(upstream.launches)
        for kind, stamp in watermarks.items():
            assert upgraded.store.snapshot.sync(kind).watermark >= stamp
    finally:
        upstream.stop()


def test_healthz_shows_how_far_the_backfill_has_come(tmp_path):
    upstream = FakeLL2(upstream_events(), launches=rebased_launches(START)).start()
    try:
        settings = both_kinds(tmp_path, upstream)
        clock = Clock(datetime.now(UTC))  # /healthz measures ages against the real clock
        syncer = make_syncer(settings, clock)
        syncer.run()
        clock.advance(hours=1, seconds=1)
        syncer.run()
        health = create_app(settings, start_sync=False).test_client().get("/healthz").json
        assert health["status"] == "ok" and health["backfill_complete"] is False
        events = health["streams"]["event"]["history"]
        assert events["complete"] is False and events["days"] is None
        assert events["read"] >= 100 and events["read"] + events["left"] >= len(upstream.events)
        assert events["reached"] < clock.now.strftime(STAMP)
    finally:
        upstream.stop()


@needs_redis
def test_earlier_dates_travel_through_redis_and_the_removal_grace(tmp_path, redis_url, fake_ll2):
    """A follower sees the leader's moves; a moved item removed upstream keeps its story
    while it is shown as cancelled."""
    leader, syncer, _ = instance(
        tmp_path, "a", redis_url, fake_ll2.base_url, limit=40, lead=True
    )  # three syncs in a row, by hand
    assert syncer.run().ok
    moved = dict(fake_ll2.events[384], date="2026-12-27T10:00:00Z")
    moved["last_updated"] = datetime.now(UTC).strftime(STAMP)
    fake_ll2.upsert(moved)
    assert syncer.run(force=True).ok
    story = leader.snapshot.entries["event:384"].moves
    assert len(story) == 1
    follower, follower_syncer, _ = instance(tmp_path, "b", redis_url, fake_ll2.base_url)
    assert follower.snapshot.entries["event:384"].moves == story
    fake_ll2.remove(384)
    report = syncer.run(force=True)
    assert report.ok, report.line()
    removed = leader.snapshot.entries["event:384"]
    assert removed.removed_at is not None and removed.moves == story
    follower.reload_if_changed()
    assert follower.snapshot.entries["event:384"].moves == story
    served = create_app(follower_syncer.settings, start_sync=False).test_client()
    items = served.get("/events.json?start=2026-12-01").json["events"]
    (item,) = [i for i in items if i["id"] == 384]
    assert item["moved"] and len(item["moves"]) == 1
    assert item["moves"][0]["was"].startswith("2026-12-24")
    assert timedelta(0) <= datetime.now(UTC) - removed.removed_at < timedelta(minutes=5)


ARTEMIS = {"id": 15, "name": "Artemis", "url": "https://ll.thespacedevs.com/2.3.0/program/15/"}


def artemis_upstream(now: datetime) -> FakeLL2:
    """The fixture events and launches, with the Artemis I launch (16 Nov 2022, last edited
    long ago: the history backfill reads it late) and its splashdown event."""
    launch = detailed_launch()
    launch.update(
        id="f0a5c1b2-0c6e-4e0a-9b36-4f3c5a1e2d01",
        slug="sls-block-1-artemis-i",
        name="SLS Block 1 | Artemis I",
        net="2022-11-16T06:47:44Z",
        window_start="2022-11-16T06:04:00Z",
        window_end="2022-11-16T08:04:00Z",
        net_precision={"id": 0, "name": "Second", "abbrev": "SEC"},
        status={"id": 3, "name": "Launch Successful", "abbrev": "Success"},
        last_updated="2023-01-10T09:00:00Z",
        program=[{**launch["program"][0], **ARTEMIS}],
        updates=[],
    )
    launch["mission"] = {**launch["mission"], "name": "Artemis I", "type": "Human Exploration"}
    configuration = launch["rocket"]["configuration"]
    configuration.update(name="Space Launch System", full_name="SLS Block 1")
    splashdown = copy.deepcopy(next(e for e in upstream_events() if e["id"] == 422))
    splashdown.update(
        id=9001,
        slug="artemis-i-splashdown",
        name="Artemis I Splashdown",
        date="2022-12-11T17:40:00Z",
        last_updated="2022-12-12T10:00:00Z",
        program=[{**splashdown["program"][0], **ARTEMIS}],
    )
    return FakeLL2(
        [*upstream_events(), splashdown], launches=[*rebased_launches(now), launch]
    ).start()


def test_the_artemis_program_calendar_has_the_artemis_i_launch(tmp_path):
    """/programs/artemis.ics?include=events,launches&start=2022-01-01 once had the Artemis I
    splashdown but not the launch (launches were synced from 60 days back)."""
    upstream = artemis_upstream(START)
    try:
        settings = both_kinds(tmp_path, upstream)  # the defaults: the whole history
        clock = Clock(START)
        syncer = make_syncer(settings, clock)
        for _ in range(24 * 60):  # the scheduler's ticks, until the backfill is done
            if syncer.run().backfill_complete:
                break
            clock.advance(minutes=1)
        assert syncer.store.snapshot.sync("launch").backfill_complete
        client = create_app(settings, start_sync=False).test_client()
        url = "/programs/artemis.ics?include=events,launches&start=2022-01-01"
        response = client.get(url)
        assert response.status_code == 200
        vevents = {str(v["SUMMARY"]): v for v in Calendar.from_ical(response.data).walk("VEVENT")}
        (launch,) = [
            v for name, v in vevents.items() if "Artemis I" in name and "Splash" not in name
        ]
        assert launch.decoded("DTSTART") == datetime(2022, 11, 16, 6, 4, tzinfo=UTC)  # window
        assert "When: 2022-11-16 06:47 UTC" in str(launch["DESCRIPTION"])
        assert "ll2-launch-f0a5c1b2-0c6e-4e0a-9b36-4f3c5a1e2d01@" in str(launch["UID"])
        assert any("Splashdown" in name for name in vevents)
        assert all(
            v.decoded("DTSTART") >= datetime(2022, 1, 1, tzinfo=UTC)
            for v in vevents.values()
            if isinstance(v.decoded("DTSTART"), datetime)
        )
        path = tmp_path / "artemis.ics"  # last: the six parsers and the lint (or a skip)
        path.write_bytes(response.data)
        validate_ics(path)
    finally:
        upstream.stop()
