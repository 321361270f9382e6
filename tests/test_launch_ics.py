"""Launch → VEVENT mapping (#9 groundwork), checked by parsing what icalendar writes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from ll2data import detailed_launch as detailed

from icalfeed.feeds import ics
from icalfeed.feeds.titles import CalendarMeta
from icalfeed.ll2.models import Launch

LAUNCHES = Path(__file__).parent / "data" / "launches"
SEEN = datetime(2026, 7, 1, tzinfo=UTC)
META = CalendarMeta("Launches", "Test launches", "icalfeed-launch-test", "launches.ics")


def mapped(raw: dict, **options) -> Calendar:
    component = ics.launch_vevent(
        Launch.from_ll2(raw), sequence=options.pop("sequence", 0), first_seen=SEEN, **options
    )
    head = ics.calendar_head(META)
    body = head[: -len(ics.END)] + component.to_ical() + ics.END
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    return event


def test_a_go_launch_with_a_window():
    event = mapped(detailed())
    assert str(event["UID"]) == "ll2-launch-e1079d3a-c0a6-4b42-bc1d-92e48a5a78fc@icalfeed"
    assert event["SUMMARY"] == "Falcon 9 | Starlink Group 17-39"
    assert event["DTSTART"].dt == datetime(2026, 7, 20, 14, 0, tzinfo=UTC)  # window start
    assert event["DTEND"].dt == datetime(2026, 7, 20, 18, 0, tzinfo=UTC)  # window end
    assert event["STATUS"] == "CONFIRMED"
    assert event["GEO"].latitude == 34.632 and event["GEO"].longitude == -120.611
    assert event["LOCATION"] == "Space Launch Complex 4E, Vandenberg SFB, CA, USA"
    assert event["DTSTAMP"].dt == datetime(2026, 7, 20, 14, 19, 43, tzinfo=UTC)
    text = str(event["DESCRIPTION"])
    for expected in (
        "Status: Go for Launch",
        "When: 2026-07-20 14:49 UTC (to the second)",
        "Provider: SpaceX",
        "Rocket: Falcon 9",
        "Orbit: Low Earth Orbit",
        "Map: https://www.google.com/maps?q=34.632,-120.611",
        "Data: Launch Library 2 by The Space Devs",
    ):
        assert expected in text
    assert "Launch" in event["CATEGORIES"].cats and "SpaceX" in event["CATEGORIES"].cats


def test_no_window_means_the_net_and_no_end():
    raw = detailed()
    raw.update(window_start=raw["net"], window_end=raw["net"])
    event = mapped(raw)
    assert event["DTSTART"].dt == datetime(2026, 7, 20, 14, 49, 32, tzinfo=UTC)
    assert "DTEND" not in event


@pytest.mark.parametrize(
    ("window", "why"),
    [
        (("2026-07-19T14:00:00Z", "2026-07-19T18:00:00Z"), "stale: the NET moved a day on"),
        (("2026-07-20T15:00:00Z", "2026-07-20T18:00:00Z"), "opens after the NET"),
        (("2026-07-20T14:00:00Z", "2026-09-20T14:00:00Z"), "two months is a placeholder"),
        (("2026-07-20T18:00:00Z", "2026-07-20T14:00:00Z"), "closes before it opens"),
    ],
)
def test_an_unbelievable_window_falls_back_to_the_net(window, why):
    raw = detailed()
    raw["window_start"], raw["window_end"] = window
    event = mapped(raw)
    assert event["DTSTART"].dt == datetime(2026, 7, 20, 14, 49, 32, tzinfo=UTC), why
    assert "DTEND" not in event, why
    assert "Window:" not in str(event["DESCRIPTION"])


def test_a_window_past_midnight_names_both_days():
    raw = detailed()
    raw.update(window_start="2026-07-20T14:00:00Z", window_end="2026-07-21T02:00:00Z")
    event = mapped(raw)
    assert event["DTEND"].dt == datetime(2026, 7, 21, 2, 0, tzinfo=UTC)
    assert "Window: 2026-07-20 14:00–2026-07-21 02:00 UTC" in str(event["DESCRIPTION"])  # noqa: RUF001


@pytest.mark.parametrize(
    ("latitude", "longitude"), [("0.0", "0.0"), (None, "-120.6"), ("91", "10"), ("x", "10")]
)
def test_no_geo_without_real_coordinates(latitude, longitude):
    raw = detailed()
    raw["pad"].update(latitude=latitude, longitude=longitude)
    event = mapped(raw)
    assert "GEO" not in event
    assert str(event["LOCATION"]).startswith("Space Launch Complex 4E")


@pytest.mark.parametrize("precision", [3, 4, 5])
def test_day_precision_is_all_day(precision):
    raw = detailed()
    raw["net_precision"] = {"id": precision}
    event = mapped(raw)
    assert event["DTSTART"].dt == date(2026, 7, 20) and event["DTEND"].dt == date(2026, 7, 21)


@pytest.mark.parametrize(
    ("precision", "label"),
    [
        (7, "NET July 2026"),
        (10, "NET Q3 2026"),
        (13, "NET H2 2026"),
        (14, "NET 2026"),
        (None, "NET 20 July 2026"),
    ],
)
def test_vague_precisions_are_tentative_and_labelled(precision, label):
    raw = detailed()
    raw["net_precision"] = {"id": precision} if precision is not None else None
    event = mapped(raw)
    assert event["STATUS"] == "TENTATIVE"
    assert str(event["SUMMARY"]).startswith(label + ": ")
    assert event["DTEND"].dt - event["DTSTART"].dt == timedelta(days=1)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ((1, "Go for Launch", "Go"), "CONFIRMED"),
        ((2, "To Be Determined", "TBD"), "TENTATIVE"),
        ((8, "To Be Confirmed", "TBC"), "TENTATIVE"),
        ((5, "On Hold", "Hold"), "TENTATIVE"),
        ((3, "Launch Successful", "Success"), "CONFIRMED"),
        ((4, "Launch Failure", "Failure"), "CONFIRMED"),
        ((6, "Launch in Flight", "In Flight"), "CONFIRMED"),
        ((7, "Launch was a Partial Failure", "Partial Failure"), "CONFIRMED"),
        # The id decides, whatever the words; without a known id, the words do.
        ((3, "Launch Successful", None), "CONFIRMED"),
        ((None, "Go", None), "CONFIRMED"),
        ((9, "Payload Deployed", "Deployed"), "CONFIRMED"),
        ((99, "Something New", None), "TENTATIVE"),
    ],
)
def test_status_mapping(status, expected):
    raw = detailed()
    number, name, abbrev = status
    raw["status"] = {"id": number, "name": name, "abbrev": abbrev}
    raw["holdreason"] = "Range conflict" if number == 5 else ""
    event = mapped(raw)
    assert event["STATUS"] == expected
    assert f"Status: {name}" in str(event["DESCRIPTION"])
    if number == 5:
        assert "Hold: Range conflict" in str(event["DESCRIPTION"])


def test_removed_launch_is_cancelled_and_alarms_only_when_timed():
    event = mapped(detailed(), removed_at=datetime(2026, 7, 19, tzinfo=UTC), alarms=(30,))
    assert event["STATUS"] == "CANCELLED"
    assert str(event["DESCRIPTION"]).startswith("Removed from Launch Library 2 on 2026-07-19.")
    assert str(event["SUMMARY"]).startswith("Cancelled: ")
    later = mapped(detailed(), removed_at=datetime(2026, 7, 21, 8, tzinfo=UTC))
    # Revised when cancelled (after LL2's last edit of 2026-07-20), RFC 5545 §3.8.7.2.
    assert later["DTSTAMP"].dt == later["LAST-MODIFIED"].dt == datetime(2026, 7, 21, 8, tzinfo=UTC)
    assert event.walk("VALARM") == []  # no reminder of a launch that is gone
    kept = mapped(detailed(), alarms=(30,))
    assert [a["TRIGGER"].dt for a in kept.walk("VALARM")] == [timedelta(minutes=-30)]
    raw = detailed()
    raw["net_precision"] = {"id": 7}
    assert mapped(raw, alarms=(30,)).walk("VALARM") == []


def test_every_fixture_launch_passes_the_strict_lint(tmp_path):
    import subprocess

    from conftest import need_icscheck

    harness = need_icscheck().parent
    lint = harness / "checkers" / "ics_lint.py"
    python = harness / "venv" / "bin" / "python"

    components = {}  # one per launch: the list and detailed files hold the same launches
    for path in sorted(LAUNCHES.glob("*.json")):
        data = json.loads(path.read_text())
        for raw in data["results"] if isinstance(data, dict) else data:
            launch = Launch.from_ll2(raw)
            vevent = ics.launch_vevent(launch, sequence=0, first_seen=SEEN).to_ical()
            components.setdefault(launch.id, vevent)
    head = ics.calendar_head(META)
    feed = tmp_path / "launches.ics"
    feed.write_bytes(head[: -len(ics.END)] + b"".join(components.values()) + ics.END)
    assert len(components) >= 16
    result = subprocess.run([str(python), str(lint), str(feed)], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("OK"), result.stdout
