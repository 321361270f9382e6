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
