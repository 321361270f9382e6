"""The real LL2 fixture events in tests/data, loaded the way the tests need them."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


def fixture_files() -> list[Path]:
    return sorted(p for p in (DATA / "events").glob("*.json") if "provenance" not in p.name)


def raw_items(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text())
    if isinstance(data, dict) and "results" in data:
        return data["results"]
    return data if isinstance(data, list) else [data]


def all_raw_events() -> list[dict[str, Any]]:
    """Every event object in every fixture file (ids repeat across files)."""
    return [item for path in fixture_files() for item in raw_items(path)]


def distinct_events() -> dict[int, dict[str, Any]]:
    """One object per id: the most recently updated, richest version."""
    best: dict[int, dict[str, Any]] = {}
    for item in all_raw_events():
        key = (item.get("last_updated") or "", len(item))
        old = best.get(item["id"])
        if old is None or key > (old.get("last_updated") or "", len(old)):
            best[item["id"]] = item
    return best


def upstream_events() -> list[dict[str, Any]]:
    """The fixture events as LL2 2.3.0 would serve them today: every one has last_updated
    (legacy ones get a made-up, deterministic one, a day after their date)."""
    events = []
    for item in distinct_events().values():
        event = copy.deepcopy(item)
        if not event.get("last_updated"):
            when = datetime.fromisoformat(event["date"]).astimezone(UTC) + timedelta(days=1)
            event["last_updated"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        events.append(event)
    return events


def event_by_name(fragment: str) -> dict[str, Any]:
    for item in distinct_events().values():
        if fragment.lower() in item["name"].lower():
            return copy.deepcopy(item)
    raise KeyError(fragment)


LAUNCH_FIXTURES = Path(__file__).parent / "data" / "launches"
_STAMP = "%Y-%m-%dT%H:%M:%SZ"


def detailed_launch() -> dict[str, Any]:
    """A fresh copy of the first launch of the real detailed 2.2.0 page."""
    path = next(LAUNCH_FIXTURES.glob("ll2-2.2.0_ll_launch-upcoming_mode-detailed*.json"))
    return copy.deepcopy(json.loads(path.read_text())["results"][0])


def rebased_launches(now: datetime) -> list[dict[str, Any]]:
    """The ten detailed 2.2.0 fixture launches moved to NETs 1, 6, 11 … 46 days after `now`
    (windows moved with them, last edited three days ago), and three copies turned into past
    successes 10, 30 and 200 days ago."""
    path = next(LAUNCH_FIXTURES.glob("*mode-detailed*.json"))
    originals = json.loads(path.read_text())["results"]
    launches = []
    for number, raw in enumerate(originals):
        launch = copy.deepcopy(raw)
        _move(launch, now + timedelta(days=1 + 5 * number, hours=number))
        launch["last_updated"] = (now - timedelta(days=3, minutes=-7 * number)).strftime(_STAMP)
        launches.append(launch)
    for number, days in enumerate((10, 30, 200)):
        launch = copy.deepcopy(originals[number])
        launch["id"] = f"00000000-0000-4000-8000-{number:012d}"
        launch["slug"] += "-past"
        net = now - timedelta(days=days)
        _move(launch, net)
        launch["status"] = {"id": 3, "name": "Launch Successful", "abbrev": "Success"}
        launch["last_updated"] = (net + timedelta(hours=1)).strftime(_STAMP)
        launches.append(launch)
    return launches


def _move(launch: dict[str, Any], net: datetime) -> None:
    shift = net - datetime.fromisoformat(launch["net"])
    for name in ("net", "window_start", "window_end"):
        if launch.get(name):
            launch[name] = (datetime.fromisoformat(launch[name]) + shift).strftime(_STAMP)
