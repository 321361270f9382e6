"""Parsing LL2 events of every schema into models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ll2data import all_raw_events, distinct_events, event_by_name, fixture_files, raw_items

from icalfeed.ll2.models import Event, Precision, parse_duration, parse_events, slugify


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: p.name[:40])
def test_every_fixture_event_parses(path):
    items = raw_items(path)
    page = parse_events(items)
    assert page.skipped == 0
    assert len(page.items) == len(items)
    for event, record in page.items:
        assert event.start.tzinfo is UTC
        assert event.name and record["id"] == event.id


def test_all_256_distinct_fixture_ids_parse():
    ids = {Event.from_ll2(item).id for item in all_raw_events()}
    assert len(ids) == len(distinct_events()) >= 256


def test_detailed_2_3_0_event_fields():
    raw = event_by_name("Booster 19 Rollout")
    event = Event.from_ll2(raw)
    assert event.id == 1327
    assert event.start == datetime(2026, 2, 1, 6, 0, tzinfo=UTC)
    assert event.precision is Precision.MINUTE and event.precision.is_timed
    assert event.duration == timedelta(hours=2, minutes=38, seconds=51)
    assert event.last_updated == datetime(2026, 2, 1, 8, 39, 19, tzinfo=UTC)
    assert event.type is not None and event.type.slug == "rollout"
    assert [a.abbrev for a in event.agencies] == ["SpX"]
    assert [(p.id, p.slug) for p in event.programs] == [(1, "spacex-starship")]
    assert event.launches[0].name == "Starship | Flight 13"
    assert event.videos[0].url.startswith("https://www.youtube.com/")
    assert event.videos[0].kind == "Official Webcast"
    assert event.image_url and event.image_url.startswith("https://")
    assert event.location == "Starbase Texas"


def test_legacy_event_uses_video_url_and_feature_image():
    raw = next(e for e in all_raw_events() if e.get("video_url") and "vid_urls" not in e)
    event = Event.from_ll2(raw)
    assert event.precision is Precision.UNKNOWN and event.precision.is_vague
    assert event.last_updated is None and event.duration is None
    assert [v.url for v in event.videos] == [raw["video_url"]]
    if raw.get("feature_image"):
        assert event.image_url == raw["feature_image"]


@pytest.mark.parametrize("precision_id", range(17))
def test_every_precision_id_maps(precision_id):
    raw = event_by_name("Booster 19 Rollout")
    raw["date_precision"] = {"id": precision_id, "name": "x"}
    precision = Event.from_ll2(raw).precision
    assert precision.value == precision_id
    assert precision.is_timed == (precision_id <= 2)
    assert precision.is_day == (3 <= precision_id <= 5)
    assert precision.is_vague == (precision_id >= 6)


@pytest.mark.parametrize("value", [None, {"id": 99}, {"id": "x"}, {}, "Minute", 7])
def test_unknown_or_null_precision_is_unknown(value):
    raw = event_by_name("Booster 19 Rollout")
    raw["date_precision"] = value
    assert Event.from_ll2(raw).precision is Precision.UNKNOWN


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT2H38M51S", timedelta(hours=2, minutes=38, seconds=51)),
        ("PT39M14S", timedelta(minutes=39, seconds=14)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("PT0.5S", timedelta(seconds=0)),
        ("PT1.5H", timedelta(minutes=90)),
        ("02:03:04", timedelta(hours=2, minutes=3, seconds=4)),
        ("1 02:00:00", timedelta(days=1, hours=2)),
        ("P0D", None),
        ("PT0S", None),
        ("-PT2H", None),
        ("-1 02:00:00", None),
        ("P400D", None),
        ("P99999Y", None),
        ("P", None),
        ("PT", None),
        ("2 hours", None),
        ("", None),
        (None, None),
        (3600, None),
    ],
)
def test_durations_parse_defensively(text, expected):
    got = parse_duration(text)
    if expected is None or expected == timedelta(0):
        assert got is None
    else:
        assert got == expected


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.pop("id"),
        lambda e: e.update(id=None),
        lambda e: e.update(name=None),
        lambda e: e.update(date="not a date"),
        lambda e: e.pop("date"),
    ],
)
def test_malformed_event_is_skipped_and_counted(mutate):
    good, bad = event_by_name("Booster 19"), event_by_name("Booster 19")
    mutate(bad)
    page = parse_events([good, bad, "not an object", None])
    assert [e.id for e, _ in page.items] == [1327]
    assert page.skipped == 3


def test_nulls_unknown_keys_and_type_drift_are_tolerated():
    raw = event_by_name("Booster 19")
    raw.update(
        type=None,
        agencies=None,
        program=[None, {"id": "x"}, {"id": 5, "name": "Artemis"}],
        vid_urls=[{"url": None}, {"url": "javascript:alert(1)"}, "x"],
        info_urls=None,
        image=None,
        location=None,
        webcast_live="yes",
        launches={"id": 1},
        brand_new_field={"anything": [1, 2]},
    )
    event = Event.from_ll2(raw)
    assert event.type is None and event.agencies == () and event.videos == ()
    assert [p.slug for p in event.programs] == ["artemis"]
    assert event.webcast_live is False and event.launches == ()


def test_naive_date_is_taken_as_utc():
    raw = event_by_name("Booster 19")
    raw["date"] = "2026-02-01T06:00:00"
    assert Event.from_ll2(raw).start == datetime(2026, 2, 1, 6, tzinfo=UTC)


def test_slugify_folds_case_accents_and_punctuation():
    assert slugify("SpaceX Starship") == "spacex-starship"
    assert slugify("  Vénus Flyby! ") == "venus-flyby"
