"""LL2 launches as frozen dataclasses (2.2.0/2.3.0 list or detailed mode, and the 2.0/2.1
shape), and the slimmed record a snapshot keeps of a launch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from .events import (
    Agency,
    Link,
    Program,
    Video,
    agency_of,
    image_url_of,
    info_links_of,
    program_of,
    videos_of,
)
from .fields import (
    Precision,
    as_int,
    as_line,
    as_text,
    as_url,
    each,
    item_key,
    parse_datetime,
    safe_slug,
)


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


MAX_UPDATES = 3  # LL2's newest launch updates kept (the record and the feeds)


@dataclass(frozen=True, slots=True)
class LaunchUpdate:
    """One of LL2's own notes on a launch: "Now targeting Jul 20 at 14:49 UTC"."""

    at: datetime | None
    comment: str
    url: str | None


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
    updates: tuple[LaunchUpdate, ...] = ()  # LL2's newest notes, newest first
    weather: str | None = None  # LL2's weather concerns, when it has any

    @classmethod
    def from_ll2(cls, raw: Mapping[str, Any]) -> Launch:
        """Build from one LL2 launch object; raise ValueError when it is unusable."""
        if not isinstance(raw, Mapping):
            raise ValueError("launch is not an object")
        launch_id = as_line(raw.get("id")) if isinstance(raw.get("id"), str) else ""
        name = as_line(raw.get("name"))
        net = parse_datetime(raw.get("net"))
        if not launch_id or not name or net is None:
            raise ValueError("launch lacks id, name or net")
        rocket = _mapping(raw.get("rocket"))
        config = _mapping(rocket.get("configuration"))
        mission = raw.get("mission")
        details = _mapping(mission)
        provider = raw.get("launch_service_provider")
        agency = agency_of(provider) if isinstance(provider, Mapping) else None
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
            hold_reason=as_line(raw.get("holdreason")) or None,
            fail_reason=as_line(raw.get("failreason")) or None,
            probability=_percent(raw.get("probability")),
            provider=agency,
            provider_name=agency.name if agency else as_line(raw.get("lsp_name")) or None,
            rocket_id=as_int(config.get("id")),
            rocket=as_line(config.get("name")) or None,
            rocket_family=_family(config),
            rocket_full_name=as_line(config.get("full_name")) or None,
            mission=as_line(details.get("name")) or as_line(mission) or None,  # list mode: a string
            mission_type=as_line(details.get("type")) or as_line(raw.get("mission_type")) or None,
            mission_description=as_text(details.get("description")),
            orbit=_orbit(details.get("orbit")) or as_line(raw.get("orbit")) or None,
            orbit_abbrev=as_line(_mapping(details.get("orbit")).get("abbrev")) or None,
            pad=_pad(raw.get("pad"), raw.get("location")),
            webcast_live=raw.get("webcast_live") is True,
            image_url=image_url_of(raw),
            videos=tuple(videos_of({"vid_urls": _first_list(raw, "vid_urls", "vidURLs")})),
            info_links=tuple(
                info_links_of({"info_urls": _first_list(raw, "info_urls", "infoURLs")})
            ),
            programs=tuple(each(raw.get("program"), program_of)),
            updates=_updates(raw.get("updates")),
            weather=as_line(raw.get("weather_concerns")) or None,
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
            "weather_concerns",
        ]
    },
    "updates": {"comment": None, "info_url": None, "created_on": None},
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
    if isinstance(kept.get("updates"), list):  # a busy launch has dozens: the newest few
        notes = [u for u in kept["updates"] if isinstance(u, Mapping)]
        notes.sort(key=lambda u: str(u.get("created_on") or ""), reverse=True)
        kept["updates"] = notes[:MAX_UPDATES]
    return kept


def _updates(raw: Any) -> tuple[LaunchUpdate, ...]:
    notes = (
        [
            LaunchUpdate(
                parse_datetime(u.get("created_on")),
                as_line(u.get("comment")),
                as_url(u.get("info_url")),
            )
            for u in raw
            if isinstance(u, Mapping) and as_line(u.get("comment"))
        ]
        if isinstance(raw, list)
        else []
    )
    notes.sort(key=lambda u: u.at.isoformat() if u.at else "", reverse=True)
    return tuple(notes[:MAX_UPDATES])


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
            if isinstance(family, Mapping) and as_line(family.get("name")):
                return as_line(family.get("name"))
    return as_line(config.get("family")) or None


def _launch_status(raw: Mapping[str, Any]) -> LaunchStatus | None:
    name = as_line(raw.get("name"))
    if not name:
        return None
    return LaunchStatus(as_int(raw.get("id")), name, as_line(raw.get("abbrev")) or None)


def _mapping(raw: Any) -> Mapping[str, Any]:
    return raw if isinstance(raw, Mapping) else {}


def _first_list(raw: Mapping[str, Any], *names: str) -> list[Any]:
    for name in names:
        value = raw.get(name)
        if isinstance(value, list):
            return value
    return []


def _percent(raw: Any) -> int | None:
    value = as_int(raw)
    return value if value is not None and 0 <= value <= 100 else None


def _orbit(raw: Any) -> str | None:
    orbit = _mapping(raw)
    return as_line(orbit.get("name")) or None


def _coordinate(raw: Any, limit: float) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        return None
    return value if -limit <= value <= limit else None


def _pad(raw: Any, list_location: Any) -> Pad | None:
    if isinstance(raw, str) and as_line(raw):  # list mode: names only
        return Pad(None, as_line(raw), as_line(list_location) or None, None, None, None)
    if not isinstance(raw, Mapping) or not as_line(raw.get("name")):
        return None
    location = _mapping(raw.get("location"))
    latitude = _coordinate(raw.get("latitude"), 90)
    longitude = _coordinate(raw.get("longitude"), 180)
    if latitude is None or longitude is None or (latitude == 0 and longitude == 0):
        latitude = longitude = None  # 0,0 is LL2's placeholder, not the Gulf of Guinea
    return Pad(
        id=as_int(raw.get("id")),
        name=as_line(raw.get("name")),
        location=as_line(location.get("name")) or None,
        latitude=latitude,
        longitude=longitude,
        map_url=as_url(raw.get("map_url")),
    )
