"""Parsing LL2 launches (groundwork for the launches feed): every fixture, every mode."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from icalfeed.ll2.models import Launch, Precision, parse_launches

LAUNCHES = Path(__file__).parent / "data" / "launches"


def items(name: str) -> list[dict]:
    data = json.loads(next(LAUNCHES.glob(f"{name}*.json")).read_text())
    return data["results"] if isinstance(data, dict) else data


def launches_of(name: str) -> list[Launch]:
    return [launch for launch, _ in parse_launches(items(name)).items]


@pytest.mark.parametrize(
    "name",
    [
        "ll2-2.2.0_ll_launch-upcoming_mode-detailed",
        "ll2-2.2.0_ll_launch-upcoming_mode-list",
        "legacy_",
    ],
)
def test_every_fixture_launch_parses(name):
    raw = items(name)
    page = parse_launches(raw)
    assert page.skipped == 0 and len(page.items) == len(raw)
    for launch, _ in page.items:
        assert launch.net.tzinfo is UTC and launch.name and len(launch.id) == 36


def test_detailed_launch_fields():
    (launch,) = [
        x
        for x in launches_of("ll2-2.2.0_ll_launch-upcoming_mode-detailed")
        if x.slug == "falcon-9-block-5-starlink-group-17-39"
    ]
    assert launch.id == "e1079d3a-c0a6-4b42-bc1d-92e48a5a78fc"
    assert launch.net == datetime(2026, 7, 20, 14, 49, 32, tzinfo=UTC)
    assert launch.precision is Precision.SECOND
    assert launch.window_start == datetime(2026, 7, 20, 14, 0, tzinfo=UTC)
    assert launch.window_end == datetime(2026, 7, 20, 18, 0, tzinfo=UTC)
    assert launch.status is not None and launch.status.abbrev == "Go"
    assert launch.provider is not None and launch.provider.abbrev == "SpX"
    assert launch.provider_name == "SpaceX"
    assert (launch.rocket, launch.rocket_family) == ("Falcon 9", "Falcon")
    assert launch.mission == "Starlink Group 17-39" and launch.mission_type == "Communications"
    assert launch.orbit == "Low Earth Orbit"
    assert launch.pad is not None and launch.pad.name == "Space Launch Complex 4E"
    assert (launch.pad.latitude, launch.pad.longitude) == (34.632, -120.611)
    assert launch.pad.location == "Vandenberg SFB, CA, USA"
    assert launch.videos and launch.videos[0].url.startswith("https://www.youtube.com/")
    assert launch.info_links and launch.image_url.startswith("https://")


def test_list_mode_keeps_names():
    (launch,) = [
        x
        for x in launches_of("ll2-2.2.0_ll_launch-upcoming_mode-list")
        if x.slug == "falcon-9-block-5-starlink-group-17-39"
    ]
    assert launch.provider is None and launch.provider_name == "SpaceX"
    assert launch.mission == "Starlink Group 17-39" and launch.mission_type == "Communications"
    assert launch.pad is not None and launch.pad.location == "Vandenberg SFB, CA, USA"
    assert launch.pad.latitude is None


def test_legacy_launch_precision_comes_from_the_tbd_flags():
    launch = launches_of("legacy_")[0]  # tbddate and tbdtime both false: a known time
    assert launch.precision is Precision.MINUTE and launch.last_updated is None
    assert launch.rocket == "New Shepard" and launch.orbit == "Suborbital"
    raw = items("legacy_")[0]
    assert Launch.from_ll2({**raw, "tbdtime": True}).precision is Precision.DAY
    assert Launch.from_ll2({**raw, "tbddate": True, "tbdtime": True}).precision is Precision.MONTH
    bare = {k: v for k, v in raw.items() if k not in ("tbddate", "tbdtime")}
    assert Launch.from_ll2(bare).precision is Precision.UNKNOWN


@pytest.mark.parametrize(
    "changes",
    [
        {"probability": 150},
        {"probability": "x"},
        {"pad": {"name": "Pad", "latitude": "999", "longitude": None}},
        {"rocket": None, "mission": None, "status": None, "pad": None},
        {"vidURLs": 7, "infoURLs": {"a": 1}, "program": "x"},
        {"net_precision": {"id": 1e400}},
    ],
)
def test_drift_is_absorbed(changes):
    raw = copy.deepcopy(items("ll2-2.2.0_ll_launch-upcoming_mode-detailed")[0])
    raw.update(changes)
    launch = Launch.from_ll2(raw)
    assert launch.probability is None or 0 <= launch.probability <= 100
    if "pad" in changes and launch.pad is not None:
        assert launch.pad.latitude is None and launch.pad.longitude is None


@pytest.mark.parametrize("changes", [{"id": None}, {"id": 5}, {"net": "soon"}, {"name": "\x01"}])
def test_unusable_launches_are_skipped(changes):
    raw = copy.deepcopy(items("ll2-2.2.0_ll_launch-upcoming_mode-detailed")[0])
    raw.update(changes)
    page = parse_launches([raw, "junk"])
    launches, skipped = [x for x, _ in page.items], page.skipped
    assert launches == [] and skipped == 2
