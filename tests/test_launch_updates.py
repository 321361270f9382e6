"""LL2's own launch updates and weather concerns (#16, part 4): the newest few, kept in the
slimmed record, shown in DESCRIPTION and the JSON."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import validate_ics
from icalendar import Calendar
from ll2data import detailed_launch as detailed

from icalfeed.data.snapshot import Entry
from icalfeed.feeds import ics
from icalfeed.feeds.jsonfeed import launch_json
from icalfeed.feeds.titles import CalendarMeta
from icalfeed.ll2.models import Launch
from icalfeed.ll2.models.launches import MAX_UPDATES, slim_launch_record

SEEN = datetime(2026, 7, 1, tzinfo=UTC)
META = CalendarMeta("Launches", "Test launches", "icalfeed-launch-test", "launches.ics")


def test_the_newest_updates_survive_the_slimmed_record():
    raw = detailed()
    assert len(raw["updates"]) > MAX_UPDATES
    slim = slim_launch_record(raw)
    assert len(slim["updates"]) == MAX_UPDATES
    assert set(slim["updates"][0]) == {"comment", "info_url", "created_on"}
    launch = Launch.from_ll2(slim)
    stamps = [u.at for u in launch.updates]
    assert stamps == sorted(stamps, reverse=True)
    assert launch.updates[1].comment == "Now targeting Jul 20 at 14:49 UTC"


def test_description_and_json_carry_updates_and_weather(tmp_path):
    raw = detailed()
    raw["weather_concerns"] = "Cumulus clouds, flight through precipitation"
    record = slim_launch_record(raw)
    launch = Launch.from_ll2(record)
    component = ics.launch_vevent(launch, sequence=0, first_seen=SEEN)
    body = ics.calendar_head(META)[: -len(ics.END)] + component.to_ical() + ics.END
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    description = str(event["DESCRIPTION"])
    assert "Weather: Cumulus clouds, flight through precipitation" in description
    assert "Latest from Launch Library 2:" in description
    assert "- 20 Jul 2026 13:23 UTC: Now targeting Jul 20 at 14:49 UTC" in description
    entry = Entry.create(
        launch, record, sequence=0, first_seen=SEEN, last_seen=SEEN, removed_at=None
    )
    data = launch_json(entry)
    assert data["weather_concerns"].startswith("Cumulus")
    assert [u["comment"] for u in data["updates"]][1] == "Now targeting Jul 20 at 14:49 UTC"
    assert data["updates"][0]["at"] == "2026-07-20T14:37:00Z"
    path = tmp_path / "updates.ics"  # last: the six parsers and the lint (or a skip)
    path.write_bytes(body)
    validate_ics(path)


def test_a_launch_without_updates_says_nothing_of_them():
    raw = detailed()
    raw.pop("updates")
    launch = Launch.from_ll2(slim_launch_record(raw))
    description = str(ics.launch_vevent(launch, sequence=0, first_seen=SEEN)["DESCRIPTION"])
    assert launch.updates == () and "Latest from" not in description
