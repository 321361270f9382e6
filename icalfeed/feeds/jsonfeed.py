"""Events and launches → JSON for widgets and scripts: the same selection as the feed,
stable field names, ISO 8601 dates in UTC.  Deterministic bytes, like the calendar."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from ..data.snapshot import Entry
from ..ll2.models import PLURAL, Event, Item, Launch, Precision
from .meaning import ATTRIBUTION, Meaning
from .select import Selection
from .titles import CalendarMeta


def render_json(
    selection: Selection,
    meta: CalendarMeta,
    kinds: frozenset[str] = frozenset({Event.kind}),
    notes: Sequence[str] = (),
    pieces: Callable[[Entry], bytes] | None = None,
    sample_as_of: Mapping[str, datetime] | None = None,
) -> bytes:
    """The document: `events` (and `launches` when the query includes them), each in start
    order; `count` and `total` count both; `notes` (when any) say why a filter may match
    nothing yet; `sample_as_of` (the packaged sample only) the moment each kind is shown
    as of.

    Each item is serialised on its own (`pieces`, a cache, may supply it) and the lists
    spliced into the document: the same bytes ``json.dumps`` writes for the whole of it,
    joined once (a big feed's body is its only full-size buffer).
    """
    piece = pieces or item_json_piece
    document: dict[str, Any] = {
        "calendar": {"name": meta.name, "description": meta.description},
        "count": len(selection.entries),
        "total": selection.total,
        "attribution": ATTRIBUTION,
    }
    if notes:
        document["notes"] = list(notes)
    if sample_as_of:
        document["sample_as_of"] = {
            PLURAL[kind]: at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            for kind, at in sample_as_of.items()
        }
    lists: dict[str, list[bytes]] = {}
    for kind, cls in ((Event.kind, Event), (Launch.kind, Launch)):
        if kind in kinds:
            document[PLURAL[kind]] = []
            lists[PLURAL[kind]] = [piece(e) for e in selection.entries if isinstance(e.item, cls)]
    rest = _dumps(document)
    parts: list[bytes] = []
    for name in sorted(lists):  # the keys' order in the document (sort_keys)
        if not lists[name]:
            continue
        # Top-level keys are the only lines indented by exactly one space.
        before, marker, rest = rest.partition(f'\n "{name}": []')
        assert marker, name
        parts += (before.encode(), f'\n "{name}": [\n  '.encode())
        for number, item in enumerate(lists[name]):
            if number:
                parts.append(b",\n  ")
            parts.append(item)
        parts.append(b"\n ]")
    parts.append(rest.encode())
    return b"".join(parts)


def item_json_piece(entry: Entry) -> bytes:
    """One item's JSON object as it sits in a feed's list (two levels deep), UTF-8."""
    data = launch_json(entry) if isinstance(entry.item, Launch) else event_json(entry)
    return _dumps(data).replace("\n", "\n  ").encode()


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=1)


def event_json(entry: Entry) -> dict[str, Any]:
    event = entry.item
    assert isinstance(event, Event)
    meaning = Meaning.of_entry(entry)
    return {
        "kind": "event",
        "id": event.id,
        "uid": meaning.uid,
        "name": event.name,
        "title": meaning.title,
        "display_name": meaning.plain_title,
        "slug": event.slug,
        "start": _iso(meaning.start),
        "end": _iso(meaning.end),
        "all_day": meaning.all_day,
        "precision": _precision(event.precision),
        "net": meaning.net,
        "status": meaning.status.lower(),
        "cancelled": meaning.cancelled,
        "sequence": entry.sequence,
        "removed_at": _iso(entry.removed_at),
        "last_updated": _iso(event.last_updated),
        "type": {"id": event.type.id, "name": event.type.name, "slug": event.type.slug}
        if event.type
        else None,
        "agencies": [{"id": a.id, "name": a.name, "abbrev": a.abbrev} for a in event.agencies],
        "launches": [{"id": x.id, "name": x.name, "slug": x.slug} for x in event.launches],
        "location": meaning.location,
        "description": event.description,
        **_programs_and_media(event, meaning),
        "ll2_url": f"https://ll.thespacedevs.com/2.3.0/events/{event.id}/",
    }


def launch_json(entry: Entry) -> dict[str, Any]:
    launch = entry.item
    assert isinstance(launch, Launch)
    meaning = Meaning.of_entry(entry)
    pad = launch.pad
    return {
        "kind": "launch",
        "id": launch.id,
        "uid": meaning.uid,
        "name": launch.name,
        "title": meaning.title,
        "display_name": meaning.plain_title,
        "slug": launch.slug,
        "start": _iso(meaning.start),
        "end": _iso(meaning.end),
        "net_utc": _iso(launch.net),
        "window_start": _iso(launch.window_start),
        "window_end": _iso(launch.window_end),
        "all_day": meaning.all_day,
        "precision": _precision(launch.precision),
        "net": meaning.net,
        "status": meaning.status.lower(),
        "cancelled": meaning.cancelled,
        "launch_status": {
            "id": launch.status.id,
            "name": launch.status.name,
            "abbrev": launch.status.abbrev,
        }
        if launch.status
        else None,
        "hold_reason": launch.hold_reason,
        "weather_concerns": launch.weather,
        "updates": [{"at": _iso(u.at), "comment": u.comment, "url": u.url} for u in launch.updates],
        "fail_reason": launch.fail_reason,
        "probability": launch.probability,
        "sequence": entry.sequence,
        "removed_at": _iso(entry.removed_at),
        "last_updated": _iso(launch.last_updated),
        "provider": {
            "id": launch.provider.id,
            "name": launch.provider.name,
            "abbrev": launch.provider.abbrev,
        }
        if launch.provider
        else (
            {"id": None, "name": launch.provider_name, "abbrev": None}
            if launch.provider_name
            else None
        ),
        "rocket": {
            "id": launch.rocket_id,
            "name": launch.rocket,
            "family": launch.rocket_family,
            "full_name": launch.rocket_full_name,
        }
        if launch.rocket
        else None,
        "mission": launch.mission,
        "mission_type": launch.mission_type,
        "mission_description": launch.mission_description,
        "orbit": launch.orbit,
        "pad": {
            "id": pad.id,
            "name": pad.name,
            "location": pad.location,
            "latitude": pad.latitude,
            "longitude": pad.longitude,
            "map_url": pad.map_url,
        }
        if pad
        else None,
        "location": meaning.location,
        **_programs_and_media(launch, meaning),
        "ll2_url": f"https://ll.thespacedevs.com/2.3.0/launches/{launch.id}/",
    }


def _programs_and_media(item: Item, meaning: Meaning) -> dict[str, Any]:
    """The fields events and launches share: programs, webcasts, links, the image, and the
    dates it had before (newest first; empty when it never moved)."""
    return {
        "moves": [
            {
                "was": _iso(m.start),
                "precision": m.precision.name.lower(),
                "until": _iso(m.until),
            }
            for m in meaning.moves
        ],
        "moved": meaning.moved,  # the same in words, as the calendar's description says it
        "programs": [{"id": p.id, "name": p.name, "slug": p.slug} for p in item.programs],
        "webcast": meaning.webcast,
        "webcast_live": item.webcast_live,
        "videos": [
            {"url": v.url, "title": v.title, "publisher": v.publisher, "live": v.live}
            for v in item.videos
        ],
        "links": [{"url": link.url, "title": link.title} for link in item.info_links],
        "image": item.image_url,
    }


def _precision(precision: Precision) -> dict[str, Any]:
    return {
        "id": precision.value if precision.value >= 0 else None,
        "name": precision.name.lower(),
        "words": precision.label,
        "vague": precision.is_vague,
    }


def _iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()
