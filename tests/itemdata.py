"""A snapshot for the item pages and one-item calendars (#34): real fixture launches and
events, one of each case a page must tell apart, and an app serving it at `NOW`."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from ll2data import event_by_name, rebased_launches

from icalfeed import create_app
from icalfeed.base.config import Settings
from icalfeed.data.snapshot import Snapshot
from icalfeed.data.store import write_snapshot
from icalfeed.ll2.models import parse_events, parse_launches

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
_STAMP = "%Y-%m-%dT%H:%M:%SZ"
# Launch ids by the case they stand for (the rebased fixture launches, in NET order).
PLAIN = "e1079d3a-c0a6-4b42-bc1d-92e48a5a78fc"  # Starlink 17-39: timed, webcasts, a window
MOVED = "0f6780cf-edae-4d7c-99d6-ce7de784d140"  # MRV-1: moved twice
VAGUE = "d8eb4b68-5307-4b3b-b585-5598958defc2"  # Gravity-1: known to the month
REMOVED = "5421e43a-1623-40ac-9dac-201075064e24"  # removed a day ago: in its grace
HELD = "ac897b9f-44d2-4ff4-8416-1a0a076e98a2"  # Starship Flight 13, named by event 1327
HOSTILE = "fa42624c-1e30-4b4b-a06b-59b6153bc4e5"  # LL2's text trying to leave the page
RETIRED = "5b2f05d7-9052-49fb-9bd7-2a05d4910576"  # removed 9 days ago: pruned, 410
PAST = "00000000-0000-4000-8000-000000000002"  # flown 200 days ago
ROLLOUT = 1327  # Booster 19 Rollout, naming Starship Flight 13
DOCKING = 289  # CRS-24 Dragon Docking, naming a launch not held here
NO_IMAGE = 384  # an event without an image
HOSTILE_NAME = "<script>alert(1)</script> Probe"
HOSTILE_TEXT = '</script><script>alert(2)</script> & <!-- "quoted" -->'
LIVE = "https://www.youtube.com/watch?v=live-official"
UNOFFICIAL = "https://www.youtube.com/watch?v=unofficial"


def raw_launches() -> dict[str, dict[str, Any]]:
    """The rebased fixture launches by id, with the changes each case needs."""
    launches = {raw["id"]: raw for raw in rebased_launches(NOW)}
    launches[PLAIN]["vid_urls"] = [
        {"url": UNOFFICIAL, "title": "Re-stream", "priority": 1, "type": {"name": "Unofficial"}},
        {"url": LIVE, "title": "Official webcast", "priority": 10, "live": True,
         "type": {"name": "Official Webcast"}, "publisher": "SpaceX"},
    ]  # fmt: skip
    launches[VAGUE]["net_precision"] = {"id": 7, "name": "Month"}
    hostile = launches[HOSTILE]
    hostile["name"] = HOSTILE_NAME
    hostile["mission"].update(name=HOSTILE_NAME, description=HOSTILE_TEXT)
    hostile["pad"]["name"] = HOSTILE_TEXT
    return launches


def raw_events() -> list[dict[str, Any]]:
    events = [event_by_name("Booster 19 Rollout"), event_by_name("CRS-24 Dragon Docking")]
    no_image = event_by_name("Solar Orbiter Venus Flyby")
    assert no_image["id"] == NO_IMAGE
    no_image["image"] = None
    return [*events, no_image]


def moved(raw: dict[str, Any], days: int, edited: datetime) -> dict[str, Any]:
    """A newer copy of a launch, its NET and window `days` later."""
    later = copy.deepcopy(raw)
    for name in ("net", "window_start", "window_end"):
        if later.get(name):
            shifted = datetime.fromisoformat(later[name]) + timedelta(days=days)
            later[name] = shifted.strftime(_STAMP)
    later["last_updated"] = edited.strftime(_STAMP)
    return later


def item_snapshot() -> Snapshot:
    """Every case at NOW: first seen 10 days ago, MRV-1 moved 2 days and 1 day ago, one launch
    removed a day ago, one removed 9 days ago (pruned: only its key and SEQUENCE remain)."""
    launches = raw_launches()
    snapshot = Snapshot({}, source="snapshot")
    seen = NOW - timedelta(days=10)
    snapshot, _ = snapshot.merge(parse_launches(list(launches.values())).items, seen)
    snapshot, _ = snapshot.merge(parse_events(raw_events()).items, seen)
    # Edited after the fixture's own stamp (3 days ago), or the merge keeps the newer copy.
    first = moved(launches[MOVED], 1, NOW - timedelta(days=2))
    snapshot, _ = snapshot.merge(parse_launches([first]).items, NOW - timedelta(days=2))
    second = moved(launches[MOVED], 3, NOW - timedelta(days=1))
    snapshot, _ = snapshot.merge(parse_launches([second]).items, NOW - timedelta(days=1))
    snapshot, _ = snapshot.mark_removed([f"launch:{RETIRED}"], NOW - timedelta(days=9))
    snapshot, _ = snapshot.mark_removed([f"launch:{REMOVED}"], NOW - timedelta(days=1))
    return snapshot.prune(NOW)


def client_for(tmp_path: Path, snapshot: Snapshot, **settings: Any) -> FlaskClient:
    """A client of an offline app serving `snapshot`, its clock at NOW."""
    data_dir = tmp_path / "var"
    data_dir.mkdir(parents=True, exist_ok=True)
    write_snapshot(data_dir / "snapshot.json", snapshot)
    app = create_app(Settings(data_dir=data_dir, offline=True, **settings), start_sync=False)
    app.extensions["icalfeed"].store.clock = lambda: NOW
    return app.test_client()


class Page(HTMLParser):
    """What a page's HTML holds, parsed as a browser would: the meta tags, the links of its
    head, every script element with its text, every element's attributes by id."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.links: list[dict[str, str]] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self.by_id: dict[str, dict[str, str]] = {}
        self._script: list[Any] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if "id" in found:
            self.by_id[found["id"]] = found
        if tag == "meta" and ("property" in found or "name" in found):
            self.meta[found.get("property") or found["name"]] = found.get("content", "")
        elif tag == "link":
            self.links.append(found)
        elif tag == "script":
            self._script = [found, ""]

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script[1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script[0], self._script[1]))
            self._script = None

    def link(self, rel: str, media_type: str | None = None) -> dict[str, str]:
        (found,) = [
            x
            for x in self.links
            if x.get("rel") == rel and (media_type is None or x.get("type") == media_type)
        ]
        return found

    def json_ld(self) -> dict[str, Any]:
        (block,) = [
            text for attrs, text in self.scripts if attrs.get("type") == "application/ld+json"
        ]
        data: dict[str, Any] = json.loads(block)
        return data


def text_of(html: str, element_id: str) -> str:
    """The text inside the element with `element_id` (tags dropped, spaces folded)."""
    match = re.search(
        rf'id="{re.escape(element_id)}"[^>]*>(.*?)</(?:p|ol|ul|dl|h1|span|time)>', html, re.S
    )
    assert match, element_id
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())
