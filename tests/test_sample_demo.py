"""The first run: offline, a year after the sample was captured, the demo is still full and
says how old it is; a synced snapshot is never shifted to the sample's date."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar

from icalfeed import create_app
from icalfeed.base.config import Settings
from icalfeed.data.snapshot import Snapshot
from icalfeed.data.store import load_sample

SAMPLE = load_sample()
EVENTS_AS_OF = datetime(2026, 9, 26, 1, 34, 56, tzinfo=UTC)
LAUNCHES_AS_OF = datetime(2026, 7, 20, 14, 36, 5, tzinfo=UTC)
A_YEAR_LATER = EVENTS_AS_OF + timedelta(days=365)
BANNER = "Sample data as of 26 September 2026"
DEFAULT_FEEDS = ("/events.ics", "/launches.ics", "/feed.ics")


def _app(data_dir: Path, now: datetime) -> Flask:
    app = create_app(Settings(data_dir=data_dir, offline=True), start_sync=False)
    app.extensions["icalfeed"].store.clock = lambda: now
    return app


@pytest.fixture
def offline(tmp_path: Path) -> FlaskClient:
    """A fresh offline server (no snapshot: the sample) on a clock a year past the sample."""
    return _app(tmp_path / "var", A_YEAR_LATER).test_client()


def _vevents(client: FlaskClient, path: str) -> tuple[Calendar, list]:
    response = client.get(path)
    assert response.status_code == 200, path
    calendar = Calendar.from_ical(response.data)
    return calendar, calendar.walk("VEVENT")


def _start(vevent: object) -> datetime:
    start = vevent["DTSTART"].dt  # type: ignore[index]
    if not isinstance(start, datetime):
        start = datetime(start.year, start.month, start.day, tzinfo=UTC)
    return start


def test_the_sample_records_when_each_kind_was_captured():
    assert SAMPLE.source == "sample"
    assert SAMPLE.as_of == {"event": EVENTS_AS_OF, "launch": LAUNCHES_AS_OF}


def test_default_feeds_a_year_later_show_what_was_upcoming_then(offline):
    counts = {}
    for path in DEFAULT_FEEDS:
        calendar, vevents = _vevents(offline, path)
        counts[path] = len(vevents)
        assert vevents, f"{path} is empty a year after the sample"
        said = str(calendar["X-WR-CALDESC"])
        assert "Sample data as of " in said and "not live: set up a sync" in said
        assert said == str(calendar["DESCRIPTION"])
        for vevent in vevents:
            uid = str(vevent["UID"])
            captured = LAUNCHES_AS_OF if uid.startswith("ll2-launch-") else EVENTS_AS_OF
            assert _start(vevent) >= captured - timedelta(days=31), (path, uid)
            assert str(vevent["SUMMARY"])
    _, launches = _vevents(offline, "/launches.ics")
    assert {str(v["UID"]).split("-")[1] for v in launches} == {"launch"}
    assert counts["/feed.ics"] == counts["/events.ics"] + counts["/launches.ics"]
    assert counts == {"/events.ics": 9, "/launches.ics": 11, "/feed.ics": 20}


def test_the_launch_feed_says_launches_as_of_their_own_date(offline):
    calendar, _ = _vevents(offline, "/feed.ics")
    assert "launches as of 20 July 2026" in str(calendar["X-WR-CALDESC"])
    calendar, _ = _vevents(offline, "/launches.ics")
    assert "Sample data as of 20 July 2026" in str(calendar["X-WR-CALDESC"])


def test_json_names_the_moment_it_is_shown_as_of(offline):
    body = offline.get("/feed.json").get_json()
    assert body["sample_as_of"] == {
        "events": "2026-09-26T01:34:56Z",
        "launches": "2026-07-20T14:36:05Z",
    }
    assert body["events"] and body["launches"]
    assert offline.get("/launches.json").get_json()["sample_as_of"] == {
        "launches": "2026-07-20T14:36:05Z"
    }


def test_healthz_keeps_source_sample_and_adds_the_as_of(offline):
    body = offline.get("/healthz").get_json()
    assert body["source"] == "sample"
    assert body["sample_as_of"] == {
        "events": "2026-09-26T01:34:56Z",
        "launches": "2026-07-20T14:36:05Z",
    }


def _preview_rows(html: str) -> int:
    return len(re.findall(r'<li class="event', html))


def test_builder_and_widget_show_a_full_demo_with_the_banner(offline):
    for path in (
        "/",
        "/?include=launches",
        "/?include=events,launches",
        "/widget",
        "/widget?include=launches",
        "/widget?view=month",
    ):
        response = offline.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert BANNER in html and "set up a sync to see today" in html, path
        assert "No upcoming events" not in html, path
        assert 'data-as-of-event="2026-09-26T01:34:56Z"' in html, path
        assert 'data-as-of-launch="2026-07-20T14:36:05Z"' in html, path
    launches = offline.get("/widget?include=launches").get_data(as_text=True)
    assert "ll2-launch-" in launches or "Falcon 9" in launches
    programs = offline.get("/programs").get_data(as_text=True)
    assert BANNER in programs


def test_a_program_calendar_has_content(offline):
    _, vevents = _vevents(offline, "/programs/international-space-station.ics")
    assert vevents


def _live_client(tmp_path: Path, now: datetime) -> FlaskClient:
    """A server whose data dir holds a synced snapshot (the sample's items, synced)."""
    app = _app(tmp_path / "var", now)
    store = app.extensions["icalfeed"].store
    store.commit(Snapshot(dict(SAMPLE.entries), source="snapshot", as_of=SAMPLE.as_of))
    assert store.snapshot.source == "snapshot" and not store.snapshot.as_of
    return app.test_client()


def test_a_live_snapshot_is_never_shifted(tmp_path):
    client = _live_client(tmp_path, A_YEAR_LATER)
    floor = A_YEAR_LATER.replace(hour=0, minute=0, second=0) - timedelta(days=31)
    for path in DEFAULT_FEEDS:
        calendar, vevents = _vevents(client, path)
        assert "Sample data" not in str(calendar["X-WR-CALDESC"]), path
        assert all(_start(v) >= floor for v in vevents), path
    _, launches = _vevents(client, "/launches.ics")
    assert launches == []  # every launch of the data is long past on this clock
    assert "sample_as_of" not in client.get("/feed.json").get_json()
    health = client.get("/healthz").get_json()
    assert health["source"] == "snapshot" and health["sample_as_of"] is None
    for path in ("/", "/widget"):
        html = client.get(path).get_data(as_text=True)
        assert "Sample data" not in html and "data-as-of-" not in html


def test_a_stored_snapshot_never_takes_an_as_of(tmp_path):
    data = SAMPLE.to_json()
    data["as_of"] = {"event": "2020-01-01T00:00:00Z"}
    assert Snapshot.from_json(data, "snapshot").as_of == {}
    assert "as_of" not in json.loads(SAMPLE.to_text())  # the store never writes one


def test_after_a_first_sync_now_is_now(tmp_path):
    """The same process: the sample before, a synced snapshot after, on the same clock."""
    app = _app(tmp_path / "var", A_YEAR_LATER)
    client = app.test_client()
    assert _vevents(client, "/launches.ics")[1]
    store = app.extensions["icalfeed"].store
    store.commit(Snapshot(dict(SAMPLE.entries), source="snapshot"))
    assert _vevents(client, "/launches.ics")[1] == []
    assert BANNER not in client.get("/").get_data(as_text=True)


README_URL = re.compile(
    r"`(?:http://127\.0\.0\.1:8080)?(/(?:events|launches|feed|programs|agencies|types)"
    r"[^`\s]*\.(?:ics|json)[^`\s]*)`"
)


def test_every_readme_example_url_returns_something_offline(offline):
    """A newcomer trying the README's examples on the sample, a year late, gets items."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    urls = sorted(set(README_URL.findall(text)))
    assert len(urls) >= 15
    for url in urls:
        response = offline.get(url)
        assert response.status_code == 200, url
        if url.split("?")[0].endswith(".json"):
            assert response.get_json()["count"], url
        else:
            assert Calendar.from_ical(response.data).walk("VEVENT"), url
