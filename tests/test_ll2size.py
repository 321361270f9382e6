"""LL2's real size as the working size (#16, part 2): 10,000 launches and 1,500 events
(tests/ll2size.py) through the whole path — synced from the fake LL2 on loopback into an
empty data dir, served by the app from that data dir, parsed with icalendar and checked by
the validator harness — with every item accounted for.

About 60 s, almost all of it the backfill (115 pages, each merged and saved)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import ICSCHECK, icscheck_missing, need_icscheck, settings_against
from fake_ll2 import FakeLL2
from icalendar import Calendar
from ll2size import (
    ARTEMIS,
    ARTEMIS_I,
    ARTEMIS_I_NET,
    EVENTS,
    LAUNCHES,
    big_events,
    big_launches,
)
from synctools import Clock, make_syncer

from icalfeed import create_app
from icalfeed.base.config import Settings
from icalfeed.ll2.models import parse_events, parse_launches
from icalfeed.sync.passes import Syncer
from icalfeed.sync.report import SyncReport

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
STAMP = "%Y-%m-%dT%H:%M:%SZ"
ROOT = Path(__file__).resolve().parents[1]


def _validator() -> Path | None:
    """The iCalendar validation harness when it is installed: `ICSCHECK` (a path to
    validate_ics.sh), this checkout's private copy (`make icscheck`), or ../shared/icscheck
    if it was set up there (it installs itself on first run, which needs the network)."""
    private = None if icscheck_missing() else ICSCHECK  # only once `make icscheck` checked it
    for candidate in (os.environ.get("ICSCHECK"), private, ROOT.parent / "shared/icscheck"):
        if not candidate:
            continue
        script = Path(candidate)
        script = script / "validate_ics.sh" if script.is_dir() else script
        folder = script.parent
        ready = (folder / "venv/bin/python").exists() and (folder / "node_modules").is_dir()
        if script.exists() and ready:
            return script
    return None


@dataclass
class Synced:
    fake: FakeLL2
    settings: Settings
    syncer: Syncer
    reports: list[SyncReport]


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    """An empty data dir backfilled from the fake LL2 holding the whole data set."""
    fake = FakeLL2(big_events(NOW), now=NOW, launches=big_launches(NOW)).start()
    changes: dict[str, Any] = {
        "launches": True,
        "requests_per_hour": 1000,  # the backfill in one go: LL2's limit is not the subject
        "read_timeout": 30,
    }
    settings = settings_against(fake, tmp_path_factory.mktemp("ll2size") / "var", **changes)
    syncer = make_syncer(settings, Clock(NOW))
    reports = []
    for _ in range(5):
        reports.append(syncer.run(force=True))
        if reports[-1].backfill_complete:
            break
    yield Synced(fake, settings, syncer, reports)
    fake.stop()


def test_the_data_set_is_real_size_and_parses_cleanly():
    launches, events = big_launches(NOW), big_events(NOW)
    assert len(launches) == LAUNCHES and len(events) == EVENTS
    parsed_launches, parsed_events = parse_launches(launches), parse_events(events)
    assert parsed_launches.skipped == 0 and len(parsed_launches.items) == LAUNCHES
    assert parsed_events.skipped == 0 and len(parsed_events.items) == EVENTS
    assert len({x["id"] for x in launches}) == LAUNCHES
    assert len({e["id"] for e in events}) == EVENTS
    now = NOW.strftime(STAMP)
    assert all(x["last_updated"] <= now for x in [*launches, *events])
    nets = sorted(x["net"] for x in launches)
    assert nets[0] == "1957-10-04T19:28:34Z"
    # About two years ahead (a vague NET is dated at the end of its year or half).
    assert (NOW + timedelta(days=600)).strftime(STAMP) < nets[-1] < str(NOW.year + 3)
    assert 200 <= sum(1 for net in nets if net > now) <= 400
    per_year = {year: sum(1 for net in nets if net.startswith(year)) for year in ("1975", "2025")}
    assert per_year["2025"] > 2 * per_year["1975"]  # denser in recent years
    (artemis_i,) = [item for item, _ in parsed_launches.items if item.name == ARTEMIS_I]
    assert artemis_i.net == ARTEMIS_I_NET and [p.id for p in artemis_i.programs] == [ARTEMIS]
    assert sum(1 for x in launches if x["updates"]) > 500
    assert sum(1 for x in launches if x["weather_concerns"]) > 100
    assert big_launches(NOW)[1234] == launches[1234]  # the same `now`, the same data


def test_the_backfill_brings_every_launch_and_event(synced):
    last = synced.reports[-1]
    assert last.backfill_complete, last.line()
    assert all(r.ok and r.skipped == 0 for r in synced.reports), [r.line() for r in synced.reports]
    snapshot = synced.syncer.store.snapshot
    assert snapshot.count("launch") == LAUNCHES and snapshot.count("event") == EVENTS
    assert {f"launch:{x}" for x in synced.fake.launches} | {
        f"event:{e}" for e in synced.fake.events
    } == set(snapshot.entries)
    # Every page is its own request; with 100 a page that is at least 115 of them.
    assert len(synced.fake.requests) >= (LAUNCHES + EVENTS) // 100


@pytest.fixture(scope="module")
def client(synced):
    """The app serving the synced data dir, as `serve` would after a restart."""
    app = create_app(replace(synced.settings, offline=True), start_sync=False)
    return app.test_client()


def calendar(client, url: str) -> Calendar:
    response = client.get(url)
    assert response.status_code == 200, (url, response.data[:300])
    return Calendar.from_ical(response.data)


def vevents(client, url: str) -> list[Any]:
    return calendar(client, url).walk("VEVENT")


def launch_uid(launch: dict[str, Any]) -> str:
    return f"ll2-launch-{launch['id']}@icalfeed"


def test_a_year_of_launches(client):
    found = vevents(client, "/launches.ics?start=2022-01-01&end=2022-12-31")
    expected = {launch_uid(x) for x in big_launches(NOW) if x["net"].startswith("2022")}
    assert {str(v["UID"]) for v in found} == expected and len(expected) > 150
    (artemis,) = [v for v in found if str(v["SUMMARY"]) == "SLS Block 1 | Artemis I"]
    # LL2's window (06:04 to 08:04 UTC) holds the NET: the event spans it.
    assert artemis.decoded("DTSTART") < ARTEMIS_I_NET < artemis.decoded("DTEND")
    listed = json.loads(client.get("/launches.json?start=2022-01-01&end=2022-12-31").data)
    assert listed["count"] == len(expected)


def test_a_program_calendar_with_events_and_launches(client):
    found = vevents(client, "/programs/artemis.ics?include=events,launches&start=2022-01-01")
    since = "2022-01-01T00:00:00Z"
    launches = {
        launch_uid(x)
        for x in big_launches(NOW)
        if x["net"] >= since and any(p["id"] == ARTEMIS for p in x["program"])
    }
    events = {
        f"ll2-event-{e['id']}@icalfeed"
        for e in big_events(NOW)
        if e["date"] >= since and any(p["id"] == ARTEMIS for p in e["program"])
    }
    assert launches and events
    assert {str(v["UID"]) for v in found} == launches | events


def test_the_biggest_feed_is_capped_at_max_events(client, synced):
    biggest = calendar(client, "/feed.ics?start=1957-01-01")
    found = biggest.walk("VEVENT")
    assert len(found) == synced.settings.max_events == 2000
    assert len({str(v["UID"]) for v in found}) == 2000
    description = str(biggest["X-WR-CALDESC"])
    shown = f"showing the 2000 events and launches nearest today of {LAUNCHES + EVENTS}"
    assert shown in description.replace(",", "")


def test_big_feeds_pass_every_parser_and_the_lint(client, tmp_path):
    script = _validator() or need_icscheck()
    # The default window (a month back and everything ahead: every vague date, status and
    # weather note of the upcoming launches) and a program's events and launches with a
    # reminder. The 2,000-item feed passes too, but takes the harness 13 s more.
    recent = (NOW - timedelta(days=31)).date().isoformat()
    urls = [
        f"/feed.ics?start={recent}",
        "/programs/artemis.ics?include=events,launches&start=2022-01-01&alarm=30",
    ]
    files = []
    for number, url in enumerate(urls):
        path = tmp_path / f"feed{number}.ics"
        path.write_bytes(client.get(url).data)
        files.append(str(path))
    result = subprocess.run(
        [str(script), *files],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "VALIDATE_VERBOSE": "0"},
    )
    verdicts = [line.split()[:2] for line in result.stdout.splitlines() if line[:1].isalpha()]
    assert len(verdicts) == 7 * len(urls), result.stdout[-2000:]
    assert [v for v in verdicts if v[1] == "ERROR"] == [], result.stdout[-4000:]
    assert result.returncode == 0
