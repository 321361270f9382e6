"""LL2 events as frozen dataclasses, with the agencies, programs, videos and links that
launches share with them, and the slimmed record a snapshot keeps of an event."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from .fields import (
    Precision,
    as_int,
    as_line,
    as_list,
    as_text,
    as_url,
    each,
    item_key,
    parse_datetime,
    parse_duration,
    safe_slug,
    slugify,
)


@dataclass(frozen=True, slots=True)
class Agency:
    id: int
    name: str
    abbrev: str | None


@dataclass(frozen=True, slots=True)
class Program:
    id: int
    name: str
    slug: str


@dataclass(frozen=True, slots=True)
class EventType:
    id: int
    name: str
    slug: str


@dataclass(frozen=True, slots=True)
class Named:
    """A linked object we only show by name: expedition, space station."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class LaunchRef:
    id: str
    name: str
    slug: str | None


@dataclass(frozen=True, slots=True)
class Video:
    url: str
    title: str | None
    publisher: str | None
    priority: int | None
    kind: str | None  # "Official Webcast", "Unofficial Webcast"…
    live: bool


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    title: str | None


@dataclass(frozen=True, slots=True)
class Event:
    """One LL2 event, as the rest of icalfeed sees it."""

    kind: ClassVar[str] = "event"
    id: int
    name: str
    slug: str
    start: datetime  # always UTC
    precision: Precision
    duration: timedelta | None  # None when absent, zero, negative or absurd
    last_updated: datetime | None  # None in the 2.0/2.1 schemas
    type: EventType | None
    description: str
    location: str | None
    webcast_live: bool
    image_url: str | None
    videos: tuple[Video, ...]
    info_links: tuple[Link, ...]
    agencies: tuple[Agency, ...]
    programs: tuple[Program, ...]
    launches: tuple[LaunchRef, ...]
    expeditions: tuple[Named, ...]
    spacestations: tuple[Named, ...]

    @classmethod
    def from_ll2(cls, raw: Mapping[str, Any]) -> Event:
        """Build from one LL2 event object; raise ValueError when it is unusable."""
        if not isinstance(raw, Mapping):
            raise ValueError("event is not an object")
        event_id = as_int(raw.get("id"))
        name = as_line(raw.get("name"))
        start = parse_datetime(raw.get("date"))
        if event_id is None or not name or start is None:
            raise ValueError("event lacks id, name or date")
        videos = tuple(videos_of(raw))
        return cls(
            id=event_id,
            name=name,
            slug=safe_slug(raw.get("slug"), name),
            start=start,
            precision=Precision.from_ll2(raw.get("date_precision")),
            duration=parse_duration(raw.get("duration")),
            last_updated=parse_datetime(raw.get("last_updated")),
            type=_event_type(raw.get("type")),
            description=as_text(raw.get("description")) or "",
            location=as_text(raw.get("location")) or None,
            webcast_live=raw.get("webcast_live") is True,
            image_url=image_url_of(raw),
            videos=videos,
            info_links=tuple(info_links_of(raw)),
            agencies=tuple(each(raw.get("agencies"), agency_of)),
            programs=tuple(each(raw.get("program"), program_of)),
            launches=tuple(each(raw.get("launches"), _launch)),
            expeditions=tuple(each(raw.get("expeditions"), _named)),
            spacestations=tuple(each(raw.get("spacestations"), _named)),
        )

    @property
    def key(self) -> str:
        """Unique among events and launches alike: the snapshot is keyed by it."""
        return item_key(self.kind, self.id)

    @property
    def timing(self) -> tuple[str, ...]:
        """What makes a calendar client move the event: start, precision, duration."""
        return (
            self.start.isoformat(),
            self.precision.name,
            str(self.duration.total_seconds()) if self.duration else "",
        )


# Fields of no use to a calendar that make up most of a detailed response's bytes.
_DROPPED_FIELDS = ("updates", "response_mode", "astronauts", "url")
# For each nested list, the keys worth keeping.
_KEPT_NESTED = {
    "program": ("id", "name", "slug"),
    "agencies": ("id", "name", "abbrev"),
    "launches": ("id", "name", "slug", "net"),
    "expeditions": ("id", "name"),
    "spacestations": ("id", "name"),
    "vid_urls": ("priority", "publisher", "title", "url", "type", "live"),
    "info_urls": ("priority", "title", "url"),
}


def slim_record(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an LL2 event without the bulky fields icalfeed never reads."""
    record = {k: v for k, v in raw.items() if k not in _DROPPED_FIELDS}
    for name, kept in _KEPT_NESTED.items():
        items = record.get(name)
        if isinstance(items, list):
            record[name] = [
                {k: item[k] for k in kept if k in item} if isinstance(item, Mapping) else item
                for item in items
            ]
    image = record.get("image")
    if isinstance(image, Mapping):
        record["image"] = {"image_url": image.get("image_url")}
    return record


def agency_of(raw: Mapping[str, Any]) -> Agency | None:
    """An LL2 agency object as an Agency; None without an id and a name."""
    agency_id, name = as_int(raw.get("id")), as_line(raw.get("name"))
    if agency_id is None or not name:
        return None
    return Agency(agency_id, name, as_line(raw.get("abbrev")) or None)


def program_of(raw: Mapping[str, Any]) -> Program | None:
    """An LL2 program object as a Program; None without an id and a name."""
    program_id, name = as_int(raw.get("id")), as_line(raw.get("name"))
    if program_id is None or not name:
        return None
    return Program(program_id, name, safe_slug(raw.get("slug"), name))


def _event_type(raw: Any) -> EventType | None:
    if not isinstance(raw, Mapping):
        return None
    type_id, name = as_int(raw.get("id")), as_line(raw.get("name"))
    if type_id is None or not name:
        return None
    return EventType(type_id, name, slugify(name))


def _named(raw: Mapping[str, Any]) -> Named | None:
    item_id, name = as_int(raw.get("id")), as_line(raw.get("name"))
    return Named(item_id, name) if item_id is not None and name else None


def _launch(raw: Mapping[str, Any]) -> LaunchRef | None:
    launch_id, name = raw.get("id"), as_line(raw.get("name"))
    if not isinstance(launch_id, str | int) or not name:
        return None
    return LaunchRef(str(launch_id), name, safe_slug(raw.get("slug"), "") or None)


def videos_of(raw: Mapping[str, Any]) -> Iterable[Video]:
    """The distinct http(s) videos of an LL2 object (``vid_urls``, or 2.0/2.1's ``video_url``)."""
    seen: set[str] = set()
    for item in as_list(raw.get("vid_urls")):
        if not isinstance(item, Mapping):
            continue
        url = as_url(item.get("url"))
        if url is None or url in seen:
            continue
        seen.add(url)
        kind = item.get("type")
        yield Video(
            url=url,
            title=as_text(item.get("title")) or None,
            publisher=as_text(item.get("publisher")) or None,
            priority=as_int(item.get("priority")),
            kind=as_text(kind.get("name")) or None if isinstance(kind, Mapping) else None,
            live=item.get("live") is True,
        )
    # 2.0/2.1 carry a single video_url string instead of the vid_urls list.
    legacy = as_url(raw.get("video_url"))
    if legacy and legacy not in seen:
        yield Video(legacy, None, None, None, None, False)


def info_links_of(raw: Mapping[str, Any]) -> Iterable[Link]:
    """The distinct http(s) info links of an LL2 object (``info_urls``, or ``news_url``)."""
    seen: set[str] = set()
    for item in as_list(raw.get("info_urls")):
        url = as_url(item.get("url")) if isinstance(item, Mapping) else as_url(item)
        if url and url not in seen:
            seen.add(url)
            title = as_text(item.get("title")) or None if isinstance(item, Mapping) else None
            yield Link(url, title)
    legacy = as_url(raw.get("news_url"))
    if legacy and legacy not in seen:
        yield Link(legacy, None)


def image_url_of(raw: Mapping[str, Any]) -> str | None:
    """The image URL of an LL2 object: ``image.image_url``, else ``image`` or ``feature_image``."""
    image = raw.get("image")
    if isinstance(image, Mapping):
        return as_url(image.get("image_url"))
    return as_url(image) or as_url(raw.get("feature_image"))
