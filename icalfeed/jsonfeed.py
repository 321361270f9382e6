"""Events → JSON for widgets and scripts: the same selection as the feed, stable field names,
ISO 8601 dates in UTC.  Deterministic bytes, like the calendar."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from .filters import Selection
from .ics import ATTRIBUTION, best_video_url, event_span, status, summary, vague_period
from .snapshot import Entry
from .titles import CalendarMeta


def render_json(selection: Selection, meta: CalendarMeta) -> bytes:
    document = {
        "calendar": {"name": meta.name, "description": meta.description},
        "count": len(selection.entries),
        "total": selection.total,
        "attribution": ATTRIBUTION,
        "events": [event_json(entry) for entry in selection.entries],
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1).encode()


def event_json(entry: Entry) -> dict[str, Any]:
    event = entry.event
    start, end = event_span(event)
    precision = event.precision
    return {
        "id": event.id,
        "uid": f"ll2-event-{event.id}@icalfeed",
        "name": event.name,
        "title": summary(event),
        "slug": event.slug,
        "start": _iso(start),
        "end": _iso(end),
        "all_day": not precision.is_timed,
        "precision": {
            "id": precision.value if precision.value >= 0 else None,
            "name": precision.name.lower(),
            "words": precision.label,
            "vague": precision.is_vague,
        },
        "net": f"NET {vague_period(event)}" if precision.is_vague else None,
        "status": status(entry).lower(),
        "sequence": entry.sequence,
        "removed_at": _iso(entry.removed_at),
        "last_updated": _iso(event.last_updated),
        "type": {"id": event.type.id, "name": event.type.name, "slug": event.type.slug}
        if event.type
        else None,
        "agencies": [{"id": a.id, "name": a.name, "abbrev": a.abbrev} for a in event.agencies],
        "programs": [{"id": p.id, "name": p.name, "slug": p.slug} for p in event.programs],
        "launches": [{"id": x.id, "name": x.name, "slug": x.slug} for x in event.launches],
        "location": event.location,
        "description": event.description,
        "webcast": best_video_url(event),
        "webcast_live": event.webcast_live,
        "videos": [
            {"url": v.url, "title": v.title, "publisher": v.publisher, "live": v.live}
            for v in event.videos
        ],
        "links": [{"url": link.url, "title": link.title} for link in event.info_links],
        "image": event.image_url,
        "ll2_url": f"https://ll.thespacedevs.com/2.3.0/events/{event.id}/",
    }


def _iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()
