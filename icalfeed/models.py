"""Launch Library 2 events as frozen dataclasses, built once at the parsing boundary.

Everything past this module works with these types; raw LL2 JSON never travels further
(the store keeps a slimmed copy only to persist it).  The parser accepts the 2.0/2.1
("legacy"), 2.2.0 and 2.3.0 schemas in list, normal and detailed modes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, ClassVar

# An event longer than this is not a real event but a data-entry slip; we drop the duration.
MAX_DURATION = timedelta(days=60)


class Precision(Enum):
    """LL2 ``date_precision``/``net_precision`` ids; UNKNOWN for null or an id we do not know."""

    SECOND = 0
    MINUTE = 1
    HOUR = 2
    MORNING = 3
    AFTERNOON = 4
    DAY = 5
    WEEK = 6
    MONTH = 7
    QUARTER_1 = 8
    QUARTER_2 = 9
    QUARTER_3 = 10
    QUARTER_4 = 11
    HALF_1 = 12
    HALF_2 = 13
    YEAR = 14
    FISCAL_YEAR = 15
    DECADE = 16
    UNKNOWN = -1

    @classmethod
    def from_ll2(cls, raw: Any) -> Precision:
        """Map the LL2 precision object (or its absence) to a member."""
        if not isinstance(raw, Mapping):
            return cls.UNKNOWN
        try:
            return cls(int(raw.get("id")))
        except (TypeError, ValueError, OverflowError):  # null, "x", 1e400 (infinity)
            return cls.UNKNOWN

    @property
    def is_timed(self) -> bool:
        """Known to the hour or better: a calendar can show a time of day."""
        return self in (Precision.SECOND, Precision.MINUTE, Precision.HOUR)

    @property
    def is_day(self) -> bool:
        """Known to the day (morning/afternoon included) but not to the hour."""
        return self in (Precision.MORNING, Precision.AFTERNOON, Precision.DAY)

    @property
    def is_vague(self) -> bool:
        """Known only to the week or coarser, or not known at all."""
        return not (self.is_timed or self.is_day)

    @property
    def label(self) -> str:
        """Human words for the precision, as LL2 names it."""
        return _PRECISION_LABELS[self]


_PRECISION_LABELS = {
    Precision.SECOND: "to the second",
    Precision.MINUTE: "to the minute",
    Precision.HOUR: "to the hour",
    Precision.MORNING: "morning of the day",
    Precision.AFTERNOON: "afternoon of the day",
    Precision.DAY: "to the day",
    Precision.WEEK: "to the week",
    Precision.MONTH: "to the month",
    Precision.QUARTER_1: "first quarter",
    Precision.QUARTER_2: "second quarter",
    Precision.QUARTER_3: "third quarter",
    Precision.QUARTER_4: "fourth quarter",
    Precision.HALF_1: "first half of the year",
    Precision.HALF_2: "second half of the year",
    Precision.YEAR: "to the year",
    Precision.FISCAL_YEAR: "fiscal year",
    Precision.DECADE: "to the decade",
    Precision.UNKNOWN: "unknown precision",
}


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
        event_id = _int(raw.get("id"))
        name = _line(raw.get("name"))
        start = parse_datetime(raw.get("date"))
        if event_id is None or not name or start is None:
            raise ValueError("event lacks id, name or date")
        videos = tuple(_videos(raw))
        return cls(
            id=event_id,
            name=name,
            slug=safe_slug(raw.get("slug"), name),
            start=start,
            precision=Precision.from_ll2(raw.get("date_precision")),
            duration=parse_duration(raw.get("duration")),
            last_updated=parse_datetime(raw.get("last_updated")),
            type=_event_type(raw.get("type")),
            description=_text(raw.get("description")) or "",
            location=_text(raw.get("location")) or None,
            webcast_live=raw.get("webcast_live") is True,
            image_url=_image_url(raw),
            videos=videos,
            info_links=tuple(_info_links(raw)),
            agencies=tuple(_each(raw.get("agencies"), _agency)),
            programs=tuple(_each(raw.get("program"), _program)),
            launches=tuple(_each(raw.get("launches"), _launch)),
            expeditions=tuple(_each(raw.get("expeditions"), _named)),
            spacestations=tuple(_each(raw.get("spacestations"), _named)),
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


def item_key(kind: str, item_id: object) -> str:
    """``event:1327`` or ``launch:<uuid>``."""
    return f"{kind}:{item_id}"


@dataclass(frozen=True, slots=True)
class ParsedPage:
    """The items (events or launches) of one LL2 response that parsed, with the slimmed
    raw objects we keep."""

    items: tuple[tuple[Item, Mapping[str, Any]], ...]
    skipped: int
    # Keys of objects that were there but could not be used: LL2 still lists them, so
    # they must not count as removed.
    unparsed_keys: frozenset[str] = frozenset()
    # `last_updated` of every object on the page, usable or not: where paging stands.
    stamps: tuple[datetime, ...] = ()


def parse_events(items: Iterable[Any]) -> ParsedPage:
    """Parse a list of LL2 event objects; a malformed one is skipped and counted."""
    return _parse_page(items, Event, slim_record, lambda raw: _int(raw.get("id")))


def parse_launches(items: Iterable[Any]) -> ParsedPage:
    """Parse a list of LL2 launch objects; a malformed one is skipped and counted."""
    return _parse_page(items, Launch, slim_launch_record, _launch_id)


def parse_record(kind: str, record: Mapping[str, Any]) -> Item:
    """Rebuild an item from the record a snapshot kept for it."""
    return Launch.from_ll2(record) if kind == Launch.kind else Event.from_ll2(record)


def _parse_page(
    items: Iterable[Any],
    build: type[Event] | type[Launch],
    slim: Callable[[Mapping[str, Any]], dict[str, Any]],
    raw_id: Callable[[Mapping[str, Any]], object],
) -> ParsedPage:
    parsed: list[tuple[Item, Mapping[str, Any]]] = []
    unparsed: set[str] = set()
    stamps: list[datetime] = []
    skipped = 0
    for item in items:
        stamp = parse_datetime(item.get("last_updated")) if isinstance(item, Mapping) else None
        if stamp is not None:
            stamps.append(stamp)
        try:
            clean = scrub(item)
            built = build.from_ll2(clean)
            parsed.append((built, slim(clean)))
        except (ValueError, TypeError, AttributeError, KeyError, ArithmeticError):
            skipped += 1
            item_id = raw_id(item) if isinstance(item, Mapping) else None
            if item_id is not None and item_id != "":
                unparsed.add(item_key(build.kind, item_id))
    return ParsedPage(tuple(parsed), skipped, frozenset(unparsed), tuple(stamps))


def _launch_id(raw: Mapping[str, Any]) -> str | None:
    value = raw.get("id")
    return _line(value).lower() or None if isinstance(value, str) else None


def scrub(raw: Any) -> Any:
    """A copy with every string valid UTF-8: a cut-off emoji arrives as a lone surrogate
    ("\\ud83d"), which could never be written to a file or a feed."""
    if isinstance(raw, str):
        return raw.encode("utf-8", "replace").decode("utf-8")
    if isinstance(raw, list):
        return [scrub(item) for item in raw]
    if isinstance(raw, dict):
        return {scrub(key): scrub(value) for key, value in raw.items()}
    return raw


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


_DURATION = re.compile(
    r"^(?P<sign>[-+])?P(?!$)(?:(?P<years>\d+(?:[.,]\d+)?)Y)?(?:(?P<months>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<weeks>\d+(?:[.,]\d+)?)W)?(?:(?P<days>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:[.,]\d+)?)H)?(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$",
    re.IGNORECASE,
)
# Django's own duration format ("1 02:03:04.5"), which some API versions may emit.
_CLOCK_DURATION = re.compile(
    r"^(?P<sign>-)?(?:(?P<days>\d+) )?(?P<hours>\d+):(?P<minutes>\d\d):(?P<seconds>\d\d(?:\.\d+)?)$"
)
_UNIT_SECONDS = {
    "years": 365.25 * 86400,
    "months": 30.44 * 86400,
    "weeks": 7 * 86400,
    "days": 86400,
    "hours": 3600,
    "minutes": 60,
    "seconds": 1,
}


def parse_duration(raw: Any) -> timedelta | None:
    """ISO 8601 (``PT2H38M51S``) or clock-style duration; None unless positive and sane."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    match = _DURATION.match(text) or _CLOCK_DURATION.match(text)
    if not match:
        return None
    total = 0.0
    for unit, seconds in _UNIT_SECONDS.items():
        value = match.groupdict().get(unit)
        if value:
            total += float(value.replace(",", ".")[:20]) * seconds
    if not total < MAX_DURATION.total_seconds() * 2:  # also catches inf and nan
        return None
    seconds = round(total)
    if match.group("sign") == "-" or seconds <= 0 or seconds > MAX_DURATION.total_seconds():
        return None
    return timedelta(seconds=seconds)


def parse_datetime(raw: Any) -> datetime | None:
    """An ISO 8601 timestamp as an aware UTC datetime (naive ones are taken as UTC)."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace("z", "Z"))
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    except (ValueError, OverflowError):  # "0001-01-01T00:00:00+05:00" leaves the calendar
        return None


def slugify(text: str) -> str:
    """``"SpaceX Starship"`` → ``"spacex-starship"``; accents folded, ASCII only."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


# Slugs we print go into URLs, where one query value may be 200 characters at most.
MAX_SLUG_CHARS = 60


def word_slug(text: str) -> str:
    """The slug of a name as we print and match it: `slugify`, at most MAX_SLUG_CHARS."""
    return slugify(text)[:MAX_SLUG_CHARS].strip("-")


def safe_slug(raw: Any, name: str) -> str:
    """Our own slug for an LL2 object: of LL2's slug, else of the name; never LL2's bytes,
    which reach URLs, file names and headers (empty when neither has a letter or digit)."""
    return word_slug(raw if isinstance(raw, str) else "") or word_slug(name)


def _int(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw)
    return None


def _text(raw: Any) -> str:
    return raw.strip() if isinstance(raw, str) else ""


def _line(raw: Any) -> str:
    """Text for one line: control characters dropped, white space folded."""
    return " ".join(_CONTROLS.sub("", _text(raw)).split())


_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
_URL = re.compile(r"^https?://[^\s\x00-\x1f\x7f]+$", re.IGNORECASE)


def _url(raw: Any) -> str | None:
    """An http(s) URL with nothing in it that could break a header or an iCalendar line."""
    text = _text(raw)
    return text if _URL.match(text) else None


def _list(raw: Any) -> list[Any]:
    return raw if isinstance(raw, list) else []


def _each(raw: Any, build: Any) -> Iterable[Any]:
    """Build each usable item of an LL2 list; anything else in it is ignored."""
    if not isinstance(raw, list):
        return
    seen: set[Any] = set()
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        built = build(item)
        if built is not None and built.id not in seen:
            seen.add(built.id)
            yield built


def _agency(raw: Mapping[str, Any]) -> Agency | None:
    agency_id, name = _int(raw.get("id")), _line(raw.get("name"))
    if agency_id is None or not name:
        return None
    return Agency(agency_id, name, _line(raw.get("abbrev")) or None)


def _program(raw: Mapping[str, Any]) -> Program | None:
    program_id, name = _int(raw.get("id")), _line(raw.get("name"))
    if program_id is None or not name:
        return None
    return Program(program_id, name, safe_slug(raw.get("slug"), name))


def _event_type(raw: Any) -> EventType | None:
    if not isinstance(raw, Mapping):
        return None
    type_id, name = _int(raw.get("id")), _line(raw.get("name"))
    if type_id is None or not name:
        return None
    return EventType(type_id, name, slugify(name))


def _named(raw: Mapping[str, Any]) -> Named | None:
    item_id, name = _int(raw.get("id")), _line(raw.get("name"))
    return Named(item_id, name) if item_id is not None and name else None


def _launch(raw: Mapping[str, Any]) -> LaunchRef | None:
    launch_id, name = raw.get("id"), _line(raw.get("name"))
    if not isinstance(launch_id, str | int) or not name:
        return None
    return LaunchRef(str(launch_id), name, safe_slug(raw.get("slug"), "") or None)


def _videos(raw: Mapping[str, Any]) -> Iterable[Video]:
    seen: set[str] = set()
    for item in _list(raw.get("vid_urls")):
        if not isinstance(item, Mapping):
            continue
        url = _url(item.get("url"))
        if url is None or url in seen:
            continue
        seen.add(url)
        kind = item.get("type")
        yield Video(
            url=url,
            title=_text(item.get("title")) or None,
            publisher=_text(item.get("publisher")) or None,
            priority=_int(item.get("priority")),
            kind=_text(kind.get("name")) or None if isinstance(kind, Mapping) else None,
            live=item.get("live") is True,
        )
    # 2.0/2.1 carry a single video_url string instead of the vid_urls list.
    legacy = _url(raw.get("video_url"))
    if legacy and legacy not in seen:
        yield Video(legacy, None, None, None, None, False)


def _info_links(raw: Mapping[str, Any]) -> Iterable[Link]:
    seen: set[str] = set()
    for item in _list(raw.get("info_urls")):
        url = _url(item.get("url")) if isinstance(item, Mapping) else _url(item)
        if url and url not in seen:
            seen.add(url)
            title = _text(item.get("title")) or None if isinstance(item, Mapping) else None
            yield Link(url, title)
    legacy = _url(raw.get("news_url"))
    if legacy and legacy not in seen:
        yield Link(legacy, None)


def _image_url(raw: Mapping[str, Any]) -> str | None:
    image = raw.get("image")
    if isinstance(image, Mapping):
        return _url(image.get("image_url"))
    return _url(image) or _url(raw.get("feature_image"))


@dataclass(frozen=True, slots=True)
class LaunchStatus:
    id: int | None
    name: str
    abbrev: str | None

    @property
    def settled(self) -> bool:
        """Go, or flown (success, failure, in flight, partial failure): a date to count on.
        TBD, Hold and TBC are not; an id we do not know is judged by its words."""
        if self.id in _SETTLED_IDS or self.id in _UNSETTLED_IDS:
            return self.id in _SETTLED_IDS
        return bool({(self.abbrev or "").lower(), self.name.lower()} & _SETTLED_WORDS)


# LL2 launch status ids: Go 1, Success 3, Failure 4, In Flight 6, Partial Failure 7 are
# settled; TBD 2, Hold 5, TBC 8 are not.
_SETTLED_IDS = frozenset({1, 3, 4, 6, 7})
_UNSETTLED_IDS = frozenset({2, 5, 8})
_SETTLED_WORDS = frozenset(
    {"go", "success", "failure", "partial failure", "in flight", "payload deployed", "deployed"}
)


@dataclass(frozen=True, slots=True)
class Pad:
    id: int | None
    name: str
    location: str | None
    latitude: float | None
    longitude: float | None
    map_url: str | None


@dataclass(frozen=True, slots=True)
class Launch:
    """One LL2 launch (2.2.0/2.3.0 list or detailed mode, and the 2.0/2.1 shape)."""

    kind: ClassVar[str] = "launch"
    id: str  # a UUID
    name: str  # "Falcon 9 Block 5 | Starlink Group 17-39"
    slug: str
    net: datetime  # always UTC
    precision: Precision
    window_start: datetime | None
    window_end: datetime | None
    last_updated: datetime | None
    status: LaunchStatus | None
    hold_reason: str | None
    fail_reason: str | None
    probability: int | None  # percent
    provider: Agency | None  # detailed mode only
    provider_name: str | None  # every mode
    rocket_id: int | None  # LL2 launcher configuration id
    rocket: str | None  # configuration name, "Falcon 9"
    rocket_family: str | None
    rocket_full_name: str | None  # "Falcon 9 Block 5"
    mission: str | None
    mission_type: str | None
    mission_description: str
    orbit: str | None
    orbit_abbrev: str | None  # "LEO"
    pad: Pad | None
    webcast_live: bool
    image_url: str | None
    videos: tuple[Video, ...]
    info_links: tuple[Link, ...]
    programs: tuple[Program, ...]

    @classmethod
    def from_ll2(cls, raw: Mapping[str, Any]) -> Launch:
        """Build from one LL2 launch object; raise ValueError when it is unusable."""
        if not isinstance(raw, Mapping):
            raise ValueError("launch is not an object")
        launch_id = _line(raw.get("id")) if isinstance(raw.get("id"), str) else ""
        name = _line(raw.get("name"))
        net = parse_datetime(raw.get("net"))
        if not launch_id or not name or net is None:
            raise ValueError("launch lacks id, name or net")
        rocket = _mapping(raw.get("rocket"))
        config = _mapping(rocket.get("configuration"))
        mission = raw.get("mission")
        details = _mapping(mission)
        provider = raw.get("launch_service_provider")
        agency = _agency(provider) if isinstance(provider, Mapping) else None
        status = _mapping(raw.get("status"))
        return cls(
            id=launch_id.lower(),
            name=name,
            slug=safe_slug(raw.get("slug"), name),
            net=net,
            precision=_net_precision(raw),
            window_start=parse_datetime(raw.get("window_start")),
            window_end=parse_datetime(raw.get("window_end")),
            last_updated=parse_datetime(raw.get("last_updated")),
            status=_launch_status(status),
            hold_reason=_line(raw.get("holdreason")) or None,
            fail_reason=_line(raw.get("failreason")) or None,
            probability=_percent(raw.get("probability")),
            provider=agency,
            provider_name=agency.name if agency else _line(raw.get("lsp_name")) or None,
            rocket_id=_int(config.get("id")),
            rocket=_line(config.get("name")) or None,
            rocket_family=_family(config),
            rocket_full_name=_line(config.get("full_name")) or None,
            mission=_line(details.get("name")) or _line(mission) or None,  # list mode: a string
            mission_type=_line(details.get("type")) or _line(raw.get("mission_type")) or None,
            mission_description=_text(details.get("description")),
            orbit=_orbit(details.get("orbit")) or _line(raw.get("orbit")) or None,
            orbit_abbrev=_line(_mapping(details.get("orbit")).get("abbrev")) or None,
            pad=_pad(raw.get("pad"), raw.get("location")),
            webcast_live=raw.get("webcast_live") is True,
            image_url=_image_url(raw),
            videos=tuple(_videos({"vid_urls": _first_list(raw, "vid_urls", "vidURLs")})),
            info_links=tuple(_info_links({"info_urls": _first_list(raw, "info_urls", "infoURLs")})),
            programs=tuple(_each(raw.get("program"), _program)),
        )

    @property
    def key(self) -> str:
        return item_key(self.kind, self.id)

    @property
    def start(self) -> datetime:
        """The date feeds sort and filter by: the NET."""
        return self.net

    @property
    def timing(self) -> tuple[str, ...]:
        """What makes a calendar client move the launch: NET, precision and window; and
        whether its date can be counted on (RFC 5546 §2.1.4 counts a STATUS change as
        significant: CONFIRMED ↔ TENTATIVE raises SEQUENCE like a move)."""
        return (
            self.net.isoformat(),
            self.precision.name,
            self.window_start.isoformat() if self.window_start else "",
            self.window_end.isoformat() if self.window_end else "",
            "settled" if self.status is not None and self.status.settled else "unsettled",
        )

    @property
    def agencies(self) -> tuple[Agency, ...]:
        """The launch service provider, as the agency filters see it."""
        return (self.provider,) if self.provider else ()

    @property
    def location(self) -> str | None:
        """ "<pad>, <location>", as a calendar's LOCATION shows it."""
        if self.pad is None:
            return None
        return f"{self.pad.name}, {self.pad.location}" if self.pad.location else self.pad.name


Item = Event | Launch
PLURAL = {Event.kind: "events", Launch.kind: "launches"}


# What a launch record keeps: nested specs name the keys kept inside an object (or inside
# each object of a list); None keeps a value whole.  A detailed launch is ~25 KB, this ~2 KB.
_NAMED = {"id": None, "name": None, "abbrev": None, "slug": None}
_LAUNCH_FIELDS: dict[str, Any] = {
    **{
        name: None
        for name in [
            "id",
            "name",
            "slug",
            "net",
            "window_start",
            "window_end",
            "last_updated",
            "holdreason",
            "failreason",
            "probability",
            "lsp_name",
            "mission_type",
            "orbit",
            "location",
            "webcast_live",
            "feature_image",
            "tbddate",
            "tbdtime",
        ]
    },
    "net_precision": {"id": None, "name": None},
    "status": _NAMED,
    "launch_service_provider": _NAMED,
    "rocket": {"configuration": {**_NAMED, "family": None, "families": _NAMED, "full_name": None}},
    "mission": {"name": None, "type": None, "description": None, "orbit": _NAMED},
    "pad": {
        **_NAMED,
        "latitude": None,
        "longitude": None,
        "map_url": None,
        "location": _NAMED,
    },
    "image": {"image_url": None},
    "program": _NAMED,
    **{
        name: {
            "priority": None,
            "publisher": None,
            "title": None,
            "url": None,
            "type": None,
            "live": None,
        }
        for name in ("vid_urls", "vidURLs")
    },
    **{name: {"priority": None, "title": None, "url": None} for name in ("info_urls", "infoURLs")},
}


def slim_launch_record(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an LL2 launch with only what `Launch.from_ll2` reads."""
    kept = _keep(raw, _LAUNCH_FIELDS)
    assert isinstance(kept, dict)
    return kept


def _keep(raw: Any, spec: Mapping[str, Any]) -> Any:
    if isinstance(raw, list):
        return [_keep(item, spec) for item in raw]
    if not isinstance(raw, Mapping):
        return raw  # a string where list mode has one: kept as it is
    kept = {}
    for name, inner in spec.items():
        if name in raw:
            kept[name] = raw[name] if inner is None else _keep(raw[name], inner)
    return kept


def _net_precision(raw: Mapping[str, Any]) -> Precision:
    """``net_precision`` (2.2.0+); the 2.0/2.1 schema says ``tbddate``/``tbdtime`` instead:
    a date still to be determined is known to the month, a time to be determined to the day."""
    if isinstance(raw.get("net_precision"), Mapping):
        return Precision.from_ll2(raw["net_precision"])
    if raw.get("tbddate") is True:
        return Precision.MONTH
    if raw.get("tbdtime") is True:
        return Precision.DAY
    if raw.get("tbddate") is False and raw.get("tbdtime") is False:
        return Precision.MINUTE
    return Precision.UNKNOWN


def _family(config: Mapping[str, Any]) -> str | None:
    """2.2.0 names one ``family``; 2.3.0 lists ``families``."""
    families = config.get("families")
    if isinstance(families, list):
        for family in families:
            if isinstance(family, Mapping) and _line(family.get("name")):
                return _line(family.get("name"))
    return _line(config.get("family")) or None


def _launch_status(raw: Mapping[str, Any]) -> LaunchStatus | None:
    name = _line(raw.get("name"))
    if not name:
        return None
    return LaunchStatus(_int(raw.get("id")), name, _line(raw.get("abbrev")) or None)


def _mapping(raw: Any) -> Mapping[str, Any]:
    return raw if isinstance(raw, Mapping) else {}


def _first_list(raw: Mapping[str, Any], *names: str) -> list[Any]:
    for name in names:
        if isinstance(raw.get(name), list):
            return raw[name]
    return []


def _percent(raw: Any) -> int | None:
    value = _int(raw)
    return value if value is not None and 0 <= value <= 100 else None


def _orbit(raw: Any) -> str | None:
    orbit = _mapping(raw)
    return _line(orbit.get("name")) or None


def _coordinate(raw: Any, limit: float) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        return None
    return value if -limit <= value <= limit else None


def _pad(raw: Any, list_location: Any) -> Pad | None:
    if isinstance(raw, str) and _line(raw):  # list mode: names only
        return Pad(None, _line(raw), _line(list_location) or None, None, None, None)
    if not isinstance(raw, Mapping) or not _line(raw.get("name")):
        return None
    location = _mapping(raw.get("location"))
    latitude = _coordinate(raw.get("latitude"), 90)
    longitude = _coordinate(raw.get("longitude"), 180)
    if latitude is None or longitude is None or (latitude == 0 and longitude == 0):
        latitude = longitude = None  # 0,0 is LL2's placeholder, not the Gulf of Guinea
    return Pad(
        id=_int(raw.get("id")),
        name=_line(raw.get("name")),
        location=_line(location.get("name")) or None,
        latitude=latitude,
        longitude=longitude,
        map_url=_url(raw.get("map_url")),
    )
