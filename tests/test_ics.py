"""The VEVENT mapping, checked by parsing what ics.render produces."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from icalendar import Calendar
from ll2data import event_by_name

from icalfeed.data.snapshot import Snapshot
from icalfeed.data.store import load_sample
from icalfeed.feeds import ics
from icalfeed.feeds.titles import CalendarMeta
from icalfeed.ll2.models import parse_events

NOW = datetime(2026, 11, 25, tzinfo=UTC)
META = CalendarMeta("Test", "Test feed", "icalfeed-test", "test.ics")


def snapshot_of(*raws: dict) -> Snapshot:
    snapshot, _ = Snapshot({}).merge(parse_events(raws).items, NOW)
    return snapshot


def render(*raws: dict, alarms=()) -> list:
    snapshot = snapshot_of(*raws)
    body = ics.render(snapshot.ordered_entries, META, alarms)
    return Calendar.from_ical(body).walk("VEVENT")


def rollout(**changes) -> dict:
    raw = event_by_name("Booster 19 Rollout")
    raw.update(changes)
    return raw


def test_timed_event_fields_follow_the_contract():
    (event,) = render(rollout())
    assert str(event["UID"]) == "ll2-event-1327@icalfeed"
    assert event["DTSTART"].dt == datetime(2026, 2, 1, 6, 0, tzinfo=UTC)
    assert event["DTEND"].dt == datetime(2026, 2, 1, 8, 38, 51, tzinfo=UTC)
    assert event["DTSTAMP"].dt == datetime(2026, 2, 1, 8, 39, 19, tzinfo=UTC)
    assert event["LAST-MODIFIED"].dt == event["DTSTAMP"].dt
    assert event["SEQUENCE"] == 0 and event["SUMMARY"] == "Booster 19 Rollout to Masseys"
    assert event["TRANSP"] == "TRANSPARENT" and event["CLASS"] == "PUBLIC"
    assert event["STATUS"] == "CONFIRMED" and event["LOCATION"] == "Starbase Texas"
    assert event["URL"] == "https://www.youtube.com/watch?v=ugK-wmFT9OE"
    assert event["CATEGORIES"].cats == ["Rollout", "SpaceX Starship", "SpaceX"]
    assert event["IMAGE"].params["VALUE"] == "URI" and str(event["IMAGE"]).startswith("https://")
    assert "DURATION" not in event and "VALARM" not in event.to_ical().decode()


def test_description_lists_everything_a_reader_needs():
    (event,) = render(rollout(info_urls=[{"url": "https://example.org/info", "title": "Info"}]))
    text = str(event["DESCRIPTION"])
    for expected in (
        "Type: Rollout",
        "When: 2026-02-01 06:00 UTC (to the minute)",
        "Where: Starbase Texas",
        "Agencies: SpaceX",
        "Programs: SpaceX Starship",
        "Launches: Starship | Flight 13",
        "- SpaceX rolls Flight 12 Booster 19 to Masseys: https://www.youtube.com/watch?v=ugK-wmFT9OE",
        "- Info: https://example.org/info",
        "Booster 19 is rolling out to the Masseys test site",
        "Data: Launch Library 2 by The Space Devs (https://thespacedevs.com/llapi)",
    ):
        assert expected in text


@pytest.mark.parametrize("precision_id", [0, 1, 2])
@pytest.mark.parametrize(
    ("duration", "end"),
    [("PT1H", timedelta(hours=1)), (None, None), ("P0D", None), ("-PT2H", None), ("P900D", None)],
)
def test_timed_precisions_and_durations(precision_id, duration, end):
    (event,) = render(rollout(date_precision={"id": precision_id}, duration=duration))
    start = event["DTSTART"].dt
    assert start == datetime(2026, 2, 1, 6, 0, tzinfo=UTC)
    if end is None:
        assert "DTEND" not in event
    else:
        assert event["DTEND"].dt == start + end


@pytest.mark.parametrize("precision_id", [3, 4, 5])
def test_day_precisions_are_all_day_with_exclusive_end(precision_id):
    (event,) = render(rollout(date_precision={"id": precision_id}, duration="PT3H"))
    assert event["DTSTART"].dt == date(2026, 2, 1) and event["DTEND"].dt == date(2026, 2, 2)
    assert event["STATUS"] == "CONFIRMED" and event["SUMMARY"] == "Booster 19 Rollout to Masseys"


@pytest.mark.parametrize(
    ("precision", "when", "label"),
    [
        (6, "2026-06-08T00:00:00Z", "NET week of 8 June 2026"),
        (7, "2026-09-30T00:00:00Z", "NET September 2026"),
        (8, "2026-03-31T00:00:00Z", "NET Q1 2026"),
        (9, "2026-06-30T00:00:00Z", "NET Q2 2026"),
        (10, "2026-09-30T00:00:00Z", "NET Q3 2026"),
        (11, "2026-12-31T00:00:00Z", "NET Q4 2026"),
        (12, "2026-06-30T00:00:00Z", "NET H1 2026"),
        (13, "2026-12-31T00:00:00Z", "NET H2 2026"),
        (14, "2027-12-31T00:00:00Z", "NET 2027"),
        (15, "2027-09-30T00:00:00Z", "NET FY 2027"),
        (16, "2035-12-31T00:00:00Z", "NET 2030s"),
        (None, "2026-06-08T13:00:00Z", "NET 8 June 2026"),
        (99, "2026-06-08T13:00:00Z", "NET 8 June 2026"),
    ],
)
def test_vague_precisions_are_tentative_all_day_with_the_period(precision, when, label):
    dp = {"id": precision} if precision is not None else None
    (event,) = render(rollout(date_precision=dp, date=when, duration="PT2H"))
    day = datetime.fromisoformat(when).date()
    assert event["DTSTART"].dt == day and event["DTEND"].dt == day + timedelta(days=1)
    assert event["STATUS"] == "TENTATIVE"
    assert event["SUMMARY"] == f"{label}: Booster 19 Rollout to Masseys"
    assert f"When: {label}" in str(event["DESCRIPTION"])


def test_best_video_is_live_then_official_then_priority():
    videos = [
        {"url": "https://v/unofficial", "priority": 1, "type": {"name": "Unofficial"}},
        {"url": "https://v/official", "priority": 5, "type": {"name": "Official Webcast"}},
        {"url": "https://v/official-first", "priority": 2, "type": {"name": "Official Webcast"}},
    ]
    (event,) = render(rollout(vid_urls=videos))
    assert event["URL"] == "https://v/official-first"
    videos.append({"url": "https://v/live", "priority": 50, "live": True})
    (event,) = render(rollout(vid_urls=videos))
    assert event["URL"] == "https://v/live"
    description = str(event["DESCRIPTION"])
    assert all(v["url"] in description for v in videos)


def test_no_video_means_no_url():
    (event,) = render(rollout(vid_urls=[]))
    assert "URL" not in event


def test_alarms_only_on_timed_events():
    timed, vague = render(
        rollout(),
        rollout(id=9, date_precision={"id": 7}, date="2026-09-30T00:00:00Z"),
        alarms=(10, 60),
    )
    triggers = sorted(a["TRIGGER"].dt for a in timed.walk("VALARM"))
    assert triggers == [timedelta(minutes=-60), timedelta(minutes=-10)]
    assert all(a["ACTION"] == "DISPLAY" for a in timed.walk("VALARM"))
    assert vague.walk("VALARM") == []


def test_sequence_rises_when_time_changes_and_never_falls():
    snapshot = snapshot_of(rollout())
    moved = rollout(date="2026-02-02T06:00:00Z", last_updated="2026-02-02T00:00:00Z")
    snapshot, _ = snapshot.merge(parse_events([moved]).items, NOW)
    renamed = dict(moved, name="Renamed", last_updated="2026-02-03T00:00:00Z")
    snapshot, _ = snapshot.merge(parse_events([renamed]).items, NOW)
    assert snapshot.entries["event:1327"].sequence == 1  # a new name is not a new time
    finer = dict(renamed, date_precision={"id": 0}, last_updated="2026-02-04T00:00:00Z")
    snapshot, _ = snapshot.merge(parse_events([finer]).items, NOW)
    assert snapshot.entries["event:1327"].sequence == 2
    (event,) = Calendar.from_ical(ics.render(snapshot.ordered_entries, META)).walk("VEVENT")
    assert event["SEQUENCE"] == 2


def test_removed_event_is_cancelled_with_the_date():
    snapshot = snapshot_of(rollout())
    removal = datetime(2026, 1, 20, tzinfo=UTC)
    snapshot, _ = snapshot.mark_removed(snapshot.missing("event", set(), removal), removal)
    (event,) = Calendar.from_ical(ics.render(snapshot.ordered_entries, META)).walk("VEVENT")
    assert event["STATUS"] == "CANCELLED" and event["SEQUENCE"] == 1
    assert str(event["DESCRIPTION"]).startswith("Removed from Launch Library 2 on 2026-01-20.")


def test_control_characters_and_newlines_never_break_the_output():
    nasty = "Dock\r\ning\x00\x07 \x1b[31m ; , \\ <script>alert(1)</script> 🚀 שלום"
    meta = CalendarMeta(nasty, nasty, "icalfeed-x", "x.ics")
    snapshot = snapshot_of(rollout(name=nasty, description=nasty, location=nasty))
    body = ics.render(snapshot.ordered_entries, meta)
    assert b"\x00" not in body and b"\x07" not in body and b"\x1b" not in body
    assert all(line.endswith(b"\r") or not line for line in body.split(b"\n")[:-1])
    calendar = Calendar.from_ical(body)
    (event,) = calendar.walk("VEVENT")
    assert "\n" not in str(event["SUMMARY"]) and "🚀" in str(event["SUMMARY"])
    assert "\n" not in str(calendar["X-WR-CALNAME"])
    assert "," not in str(calendar["X-WR-CALNAME"])


def test_every_line_is_folded_at_75_octets_without_splitting_utf8():
    raw = rollout(name="Ünïcødé 🚀 " * 30, description="é" * 500)
    body = ics.render(snapshot_of(raw).ordered_entries, META)
    for line in body.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")


def test_whole_sample_never_has_end_before_start_or_end_with_duration():
    sample = load_sample()
    calendar = Calendar.from_ical(ics.render(sample.ordered_entries, META))
    events = calendar.walk("VEVENT")
    assert len(events) == len(sample.entries)
    assert len({str(e["UID"]) for e in events}) == len(events)
    for event in events:
        assert "DURATION" not in event
        if "DTEND" in event:
            assert event["DTEND"].dt > event["DTSTART"].dt


def test_bytes_are_identical_across_processes_and_hash_seeds():
    code = "\n".join(
        [
            "import sys",
            "from datetime import datetime, UTC",
            "from icalfeed.data.store import load_sample",
            "from icalfeed.feeds.query import FeedQuery",
            "from icalfeed.feeds.output import render_feed",
            "s = load_sample()",
            "q = FeedQuery.from_string('type=docking,eva&program=iss&start=2019-01-01', s.catalog)",
            "day = datetime(2026, 11, 25, tzinfo=UTC)",
            "sys.stdout.buffer.write(render_feed('ics', s, q, day, 2000).body)",
        ]
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1 and next(iter(outputs)).startswith(b"BEGIN:VCALENDAR")


def test_joined_pieces_equal_icalendar_writing_the_whole_calendar():
    from icalfeed.feeds.feedcache import VeventCache

    sample = load_sample()
    entries = sample.ordered_entries
    whole = Calendar.from_ical(ics.calendar_head(META))
    for entry in entries:
        whole.add_component(ics.vevent(entry, (15,)))
    expected = whole.to_ical()
    cache = VeventCache()
    assert ics.render(entries, META, (15,)) == expected
    assert ics.render(entries, META, (15,), cache.get) == expected
    assert ics.render(entries, META, (15,), cache.get) == expected
    assert cache.builds == len(entries)


@pytest.mark.parametrize(
    "line",
    [
        "",
        "x" * 74,
        "x" * 75,
        "x" * 300,
        "D" * 73 + "\\n" + "y" * 100,
        "D" * 72 + "\\,\\;" + "y" * 80,
        "^" * 200,
        "\\" * 151,
        "é" * 100,
        "a" * 73 + "🚀" + "b" * 80,
        "Ünïcødé 🚀 " * 30 + "\\" + "x",
        "x" * 73 + "\\" + "é" * 40,
    ],
)
def test_fold_is_byte_identical_to_icalendar(line):
    from icalendar.parser.string import _foldline

    assert ics.fold(line) == _foldline(line)


@hypothesis_settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab\\^,;:é€🚀 \t"), max_size=400))
def test_fold_matches_icalendar_on_random_lines(line):
    from icalendar.parser.string import _foldline

    assert ics.fold(line) == _foldline(line)
