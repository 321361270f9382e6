"""The story of every date (#16, part 3): when an item's date or its precision moves, the
previous one is kept with when the move was seen (newest 10), through restarts, and shown in
the calendar's DESCRIPTION and the JSON."""

from __future__ import annotations

import json

import pytest
from conftest import settings_against, validate_ics
from flask.testing import FlaskClient
from icalendar import Calendar
from synctools import Clock, make_syncer

from icalfeed import create_app
from icalfeed.data.snapshot import MAX_MOVES, Snapshot
from icalfeed.data.store import Store

KEY = "event:384"


def move(fake_ll2, syncer, clock, date: str, **extra: str) -> None:
    changed = dict(fake_ll2.events[384])
    clock.advance(minutes=21)
    stamp = clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")
    changed.update(date=date, last_updated=stamp, **extra)
    fake_ll2.upsert(changed)
    assert syncer.run().ok


@pytest.fixture
def moved_once(tmp_path, fake_ll2) -> FlaskClient:
    """A client of an app whose event 384 moved once, at 12:21 on 25 Nov 2026."""
    clock = Clock()
    settings = settings_against(fake_ll2, tmp_path / "var")
    syncer = make_syncer(settings, clock)
    assert syncer.run().ok
    move(fake_ll2, syncer, clock, "2026-12-26T14:00:00Z")
    return create_app(settings, start_sync=False).test_client()


def test_each_move_keeps_the_date_before_it_newest_first_and_bounded(online_settings, fake_ll2):
    clock = Clock()
    syncer = make_syncer(online_settings, clock)
    assert syncer.run().ok
    first = syncer.store.snapshot.entries[KEY].item.start
    move(fake_ll2, syncer, clock, "2026-12-26T14:00:00Z")
    move(fake_ll2, syncer, clock, "2026-12-28T09:30:00Z")
    entry = syncer.store.snapshot.entries[KEY]
    assert [m.start for m in entry.moves][1] == first
    assert entry.moves[0].start.isoformat().startswith("2026-12-26T14:00")
    assert entry.moves[0].until == clock.now and entry.sequence == 2  # SEQUENCE as before
    for day in range(1, MAX_MOVES + 3):
        move(fake_ll2, syncer, clock, f"2027-01-{day:02d}T10:00:00Z")
    assert len(syncer.store.snapshot.entries[KEY].moves) == MAX_MOVES
    # Through a restart (the snapshot file) and its JSON form: the same moves.
    restarted = Store(online_settings).load().entries[KEY]
    assert restarted.moves == syncer.store.snapshot.entries[KEY].moves
    assert restarted.digest == syncer.store.snapshot.entries[KEY].digest


def test_an_edit_that_keeps_the_date_is_no_move(online_settings, fake_ll2):
    clock = Clock()
    syncer = make_syncer(online_settings, clock)
    assert syncer.run().ok
    date = fake_ll2.events[384]["date"]
    move(fake_ll2, syncer, clock, date, description="Only the words changed.")
    assert syncer.store.snapshot.entries[KEY].moves == ()


def test_the_calendar_and_the_json_tell_the_story(moved_once, tmp_path):
    client = moved_once
    body = client.get("/events.ics?start=1957-01-01").data
    (event,) = [
        e for e in Calendar.from_ical(body).walk("VEVENT") if e["UID"] == "ll2-event-384@icalfeed"
    ]
    description = str(event["DESCRIPTION"])
    assert "Moved 1 time: was " in description and " until 25 Nov 2026" in description
    items = json.loads(client.get("/events.json?start=1957-01-01").data)["events"]
    (item,) = [i for i in items if i["id"] == 384]
    assert len(item["moves"]) == 1 and item["moves"][0]["until"] == "2026-11-25T12:21:00Z"
    assert all(i["moves"] == [] for i in items if i["id"] != 384)
    path = tmp_path / "moved.ics"  # last: the six parsers and the strict lint (or a skip)
    path.write_bytes(body)
    validate_ics(path)


@pytest.mark.parametrize("bad", [[{"start": "x"}], [{"until": "2026-01-01T00:00:00Z"}]])
def test_a_damaged_move_is_a_damaged_snapshot(bad, tmp_path):
    from icalfeed.base.errors import SnapshotError
    from icalfeed.data.store import load_sample

    data = load_sample().to_json()
    data["entries"][0]["moves"] = bad
    with pytest.raises(SnapshotError):
        Snapshot.from_json(data, "snapshot")


def test_pages_mark_a_moved_item_with_its_earlier_date(moved_once):
    client = moved_once
    page = client.get("/widget?start=2026-11-01&view=agenda").data.decode()
    assert 'class="tag moved" tabindex="0" title="Moved 1 time: was ' in page
    data = json.loads(client.get("/events.json?start=1957-01-01").data)
    (item,) = [i for i in data["events"] if i["id"] == 384]
    assert item["moved"].startswith("Moved 1 time: was ")
