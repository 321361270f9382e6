"""What an item's own page decides: its schema.org `Event` (JSON-LD), what a shared link
shows (OpenGraph and Twitter cards), the Google Calendar template that adds it once, the map
of its pad, and its webcasts and earlier dates in the order the page lists them.

Every answer reads the meaning layer, so the page, the calendar and the JSON agree about
an item; the page's template only lays these out. Pure: no Flask, no I/O, no "now".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from ..data.snapshot import Entry, Move
from ..ll2.models import Event, Launch, Pad, Precision, Video
from .meaning import ATTRIBUTION, Meaning, best_video_url, date_words

SCHEMA = "https://schema.org/"
CANCELLED = SCHEMA + "EventCancelled"
POSTPONED = SCHEMA + "EventPostponed"
RESCHEDULED = SCHEMA + "EventRescheduled"
SCHEDULED = SCHEMA + "EventScheduled"
GOOGLE_TEMPLATE = "https://calendar.google.com/calendar/render"
OPENSTREETMAP = "https://www.openstreetmap.org/"
# What may not appear as itself inside a <script> data block: "</script>" or "<!--" in LL2's
# text would end or confuse the element; U+2028/2029 end a line for older parsers.
_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


@dataclass(frozen=True, slots=True)
class Share:
    """What a link to the page shows where it is shared (OpenGraph, Twitter cards)."""

    title: str
    description: str  # the date and the status, in words
    url: str  # absolute
    image: str | None

    @property
    def card(self) -> str:
        """The Twitter card: the big one when there is an image to fill it."""
        return "summary_large_image" if self.image else "summary"


def event_status(entry: Entry) -> str:
    """schema.org's `eventStatus`: cancelled when gone upstream, postponed while the date is
    only known to the week or coarser, rescheduled once it moved, else scheduled."""
    if entry.removed_at is not None:
        return CANCELLED
    if entry.item.precision.is_vague:
        return POSTPONED
    return RESCHEDULED if entry.moves else SCHEDULED


def schema_date(when: datetime, precision: Precision) -> str:
    """A date as ISO 8601 says it, no more precise than LL2 knows it: a UTC instant, a day,
    a month (`2026-07`) or a year (`2026`). A week is its NET day."""
    utc = when.astimezone(UTC)
    if precision.is_timed:
        return f"{utc:%Y-%m-%dT%H:%M:%SZ}"
    if precision.is_day or precision is Precision.WEEK:
        return f"{utc:%Y-%m-%d}"
    if precision in (Precision.MONTH, Precision.UNKNOWN):  # unknown: no day it may not know
        return f"{utc:%Y-%m}"
    return f"{utc:%Y}"


def start_date(entry: Entry) -> str:
    """`startDate`: when the calendar's event starts (a launch's window when believable),
    at the precision LL2 knows."""
    meaning = Meaning.of_entry(entry)
    if isinstance(meaning.start, datetime):
        return schema_date(meaning.start, entry.item.precision)
    return schema_date(entry.item.start, entry.item.precision)


def json_ld(entry: Entry, page_url: str) -> dict[str, Any]:
    """The item as a schema.org `Event`, honest about how well its date is known."""
    item = entry.item
    meaning = Meaning.of_entry(entry)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": meaning.name,
        "startDate": start_date(entry),
        "eventStatus": event_status(entry),
        "eventAttendanceMode": _attendance(meaning),
        "url": page_url,
        "description": description(entry),
    }
    if isinstance(meaning.end, datetime):
        data["endDate"] = schema_date(meaning.end, item.precision)
    if entry.moves:
        data["previousStartDate"] = [schema_date(m.start, m.precision) for m in entry.moves]
    places = _places(entry, meaning)
    if places:
        data["location"] = places if len(places) > 1 else places[0]
    if item.image_url:
        data["image"] = [item.image_url]
    organizer = _organizer(entry)
    if organizer:
        data["organizer"] = {"@type": "Organization", "name": organizer}
    return data


def script_json(data: Any) -> str:
    """JSON for a ``<script type="application/ld+json">`` block: no text from LL2 can close
    the element or start a comment in it (``<``, ``>``, ``&`` written as ``\\u003c`` …, which
    JSON reads back as the same characters)."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1)
    return "".join(_SCRIPT_ESCAPES.get(char, char) for char in text)


def description(entry: Entry) -> str:
    """The item described in LL2's words (the mission's, the event's), else the summary."""
    item = entry.item
    text = item.mission_description if isinstance(item, Launch) else item.description
    return text or summary(entry)


def summary(entry: Entry) -> str:
    """One line with the date and the status in words: "20 Jul 2026 14:49 UTC · Go for
    Launch · Space Launch Complex 4E, Vandenberg SFB"."""
    item = entry.item
    parts = [date_words(item.start, item.precision), status_words(entry)]
    if item.location:
        parts.append(item.location)
    return " · ".join(parts)


def status_words(entry: Entry) -> str:
    """Where the item stands: removed upstream, LL2's launch status (with the reason of a
    hold), or the event's type."""
    item = entry.item
    if entry.removed_at is not None:
        return f"Cancelled: removed from Launch Library 2 on {entry.removed_at:%-d %b %Y}"
    if isinstance(item, Launch):
        status = item.status.name if item.status else "Status not given"
        return f"{status} ({item.hold_reason})" if item.hold_reason else status
    return item.type.name if item.type else "Event"


def share(entry: Entry, page_url: str) -> Share:
    """What a shared link to the page shows."""
    meaning = Meaning.of_entry(entry)
    return Share(meaning.plain_title, summary(entry), page_url, entry.item.image_url)


def google_template(entry: Entry, page_url: str) -> str:
    """A Google Calendar link that adds the item once (not a subscription): timed as UTC
    instants (ending at the start when no end is known), else all day on its (NET) day,
    the end exclusive; titled as calendars title it ("NET July 2026: …")."""
    meaning = Meaning.of_entry(entry)
    start, end = meaning.start, meaning.end
    if isinstance(start, datetime):
        dates = f"{_instant(start)}/{_instant(end if isinstance(end, datetime) else start)}"
    else:
        after = end if isinstance(end, date) else start + timedelta(days=1)
        dates = f"{start:%Y%m%d}/{after:%Y%m%d}"
    params = {
        "action": "TEMPLATE",
        "text": meaning.title,
        "dates": dates,
        "details": f"{summary(entry)}\n\n{page_url}\n\n{ATTRIBUTION}",
    }
    if meaning.location:
        params["location"] = meaning.location
    return f"{GOOGLE_TEMPLATE}?{urlencode(params, quote_via=quote)}"


def map_link(pad: Pad | None) -> str | None:
    """LL2's map of the pad, else OpenStreetMap at its coordinates when they are known."""
    if pad is None:
        return None
    if pad.map_url:
        return pad.map_url
    if pad.latitude is None or pad.longitude is None:
        return None
    lat, lon = f"{pad.latitude:.5f}", f"{pad.longitude:.5f}"
    return f"{OPENSTREETMAP}?mlat={lat}&mlon={lon}#map=14/{lat}/{lon}"


def webcasts(videos: tuple[Video, ...]) -> tuple[Video, ...]:
    """Every webcast, the one the calendar links first (live, then official), then the
    others in LL2's order."""
    best = best_video_url(videos)
    return tuple(sorted(videos, key=lambda v: v.url != best))


def moved_count(moves: tuple[Move, ...]) -> str:
    """ "Moved 2 times", as the calendar's description says it."""
    return f"Moved {len(moves)} time{'s' if len(moves) > 1 else ''}"


def move_words(move: Move) -> str:
    """One earlier date: "was NET December 2026 until 1 Nov 2026"."""
    return f"was {date_words(move.start, move.precision)} until {move.until:%-d %b %Y}"


def _instant(when: datetime) -> str:
    return f"{when.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def _attendance(meaning: Meaning) -> str:
    """Watched online when there is a webcast, from a place when there is one, or both."""
    if meaning.webcast and meaning.location:
        return SCHEMA + "MixedEventAttendanceMode"
    if meaning.webcast:
        return SCHEMA + "OnlineEventAttendanceMode"
    return SCHEMA + "OfflineEventAttendanceMode"


def _places(entry: Entry, meaning: Meaning) -> list[dict[str, Any]]:
    """The pad or place (with its coordinates when known) and the webcast to watch it on."""
    item = entry.item
    places: list[dict[str, Any]] = []
    if meaning.location:
        place: dict[str, Any] = {"@type": "Place", "name": meaning.location}
        pad = item.pad if isinstance(item, Launch) else None
        place["address"] = (pad.location if pad else None) or meaning.location
        if pad and pad.latitude is not None and pad.longitude is not None:
            place["geo"] = {
                "@type": "GeoCoordinates",
                "latitude": pad.latitude,
                "longitude": pad.longitude,
            }
        places.append(place)
    if meaning.webcast:
        places.append({"@type": "VirtualLocation", "url": meaning.webcast})
    return places


def _organizer(entry: Entry) -> str | None:
    """Who runs it: the launch provider, or the event's first agency."""
    item = entry.item
    if isinstance(item, Launch):
        return item.provider_name
    assert isinstance(item, Event)
    return item.agencies[0].name if item.agencies else None
