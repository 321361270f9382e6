"""Feed queries: parsed and validated from a query string, and their canonical form.

Pure: no Flask, no I/O, and `now` is always an argument.  A `FeedQuery` holds resolved ids
and folded text, so it is hashable and normalised: the order of values and parameters, and
the spelling of a name (``SpaceX Starship``, ``spacex-starship``, ``1``), do not change it.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode

from ..base.errors import QueryError, shown
from ..data.catalog import Catalog, Kind
from ..ll2.models import PLURAL, Event, Launch, slugify, word_slug

DEFAULT_LOOKBACK = timedelta(days=31)
VAGUE_MODES = ("mark", "hide")
# What `include` may name, and the kind each spelling means.
INCLUDE_WORDS = {
    "event": Event.kind,
    "events": Event.kind,
    "launch": Launch.kind,
    "launches": Launch.kind,
}
EVENTS_ONLY = frozenset({Event.kind})
LAUNCHES_ONLY = frozenset({Launch.kind})
EVERYTHING = frozenset({Event.kind, Launch.kind})
# LL2 launch status ids and the words users may say for them (abbreviation first).
LAUNCH_STATUSES = {
    1: ("go", "go-for-launch"),
    2: ("tbd", "to-be-determined"),
    3: ("success", "launch-successful", "successful"),
    4: ("failure", "launch-failure", "failed"),
    5: ("hold", "on-hold"),
    6: ("in-flight", "launch-in-flight"),
    7: ("partial-failure", "launch-was-a-partial-failure"),
    8: ("tbc", "to-be-confirmed"),
}
STATUS_WORDS = {word: sid for sid, words in LAUNCH_STATUSES.items() for word in words}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MAX_ALARMS = 3
MAX_ALARM_MINUTES = 10080  # a week
MAX_VALUES = 50
MAX_VALUE_LENGTH = 200
_ONE = timedelta(microseconds=1)
YEARS = (1900, 2200)  # the years a feed URL's dates may name
# Launch Library 2 paging/format parameters: accepted so an LL2 query string can be pasted,
# and ignored because a calendar always holds the whole selection.
IGNORED = ("format", "mode", "limit", "offset", "ordering")
# Our parameter → the LL2 /events/ and /launches/ filter names that mean the same.
ALIASES = {
    "agency": ("agency__ids", "lsp__id", "lsp__name"),
    "program": ("program__ids",),
    "type": ("type__ids",),
    "start": ("date__gte", "net__gte"),
    "end": ("date__lte", "net__lte"),
    "date__gt": ("net__gt",),
    "date__lt": ("net__lt",),
    "status": ("status__ids",),
    "rocket": ("rocket__configuration__name", "rocket__configuration__full_name"),
    "orbit": ("mission__orbit__name",),
}
PARAMETERS = (
    "agency",
    "program",
    "type",
    "exclude_agency",
    "exclude_program",
    "exclude_type",
    "location",
    "search",
    "webcast",
    "start",
    "end",
    "vague",
    "alarm",
    "date__gt",
    "date__lt",
    "spacestation__ids",
    "expedition__ids",
    "launch__ids",
    "id",
    "slug",
    "last_updated__gte",
    "last_updated__lte",
    "day",
    "month",
    "year",
    "video_url",
    "include",
    "rocket",
    "exclude_rocket",
    "status",
    "exclude_status",
    "orbit",
    "exclude_orbit",
    "mission_type",
    "exclude_mission_type",
    "pad",
    "exclude_pad",
)
_CANONICAL = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
KNOWN = PARAMETERS + tuple(_CANONICAL) + IGNORED
# Added to links when they are shared (ads, newsletters, social sites): a subscription link
# that comes back with them must keep working, so they are ignored wherever a query is read,
# and never reach a cache key or a link built from the query.
TRACKING = frozenset({"fbclid", "gclid", "msclkid", "mc_cid", "mc_eid", "igshid", "ref_src"})
TRACKING_PREFIX = "utm_"
# Pieces of every tracking name, one of which a raw query string holding one must contain
# (lower-cased; an underscore may come percent-encoded).
_TRACKING_HINTS = ("utm", "clid", "clkid", "mc_", "mc%5f", "igshid", "ref_src", "ref%5fsrc")


def is_tracking(name: str) -> bool:
    """Whether a parameter name is one sharing adds (`TRACKING`, ``utm_*``), in any case."""
    folded = name.strip().lower()
    return folded in TRACKING or folded.startswith(TRACKING_PREFIX)


def only_parameters(
    args: Iterable[tuple[str, str]], allowed: tuple[str, ...], route: str
) -> list[tuple[str, str]]:
    """The parameters of a route that takes only `allowed` (an item's page, its calendar),
    tracking ones left out; QueryError naming any other, with the closest allowed name."""
    kept: list[tuple[str, str]] = []
    for name, value in args:
        if is_tracking(name):
            continue
        folded = name.strip().lower()
        if folded not in allowed:
            close = difflib.get_close_matches(folded, allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise QueryError(
                f"unknown parameter '{shown(name)}'{hint}: {route} takes only "
                + ", ".join(allowed),
                tuple(close),
            )
        kept.append((name, value))
    return kept


def without_tracking(query_string: str) -> str:
    """A raw query string without its tracking parameters (and then without empty parts),
    the rest kept byte for byte, so ``program=x&fbclid=y`` and ``program=x`` are one key of
    a cache of answers. Cheap when there is nothing to drop (the fast path's every request):
    a query string no tracking name can hide in is returned as it is."""
    lowered = query_string.lower()
    if not any(hint in lowered for hint in _TRACKING_HINTS):
        return query_string
    kept = [part for part in query_string.split("&") if part and not _tracking_part(part)]
    return "&".join(kept)


def _tracking_part(part: str) -> bool:
    name = unquote_plus(part.split("=", 1)[0])
    return is_tracking(name)


@dataclass(frozen=True, slots=True)
class FeedQuery:
    """A normalised selection of events; every field empty means "everything"."""

    agencies: frozenset[int] = frozenset()
    programs: frozenset[int] = frozenset()
    types: frozenset[int] = frozenset()
    exclude_agencies: frozenset[int] = frozenset()
    exclude_programs: frozenset[int] = frozenset()
    exclude_types: frozenset[int] = frozenset()
    spacestations: frozenset[int] = frozenset()
    expeditions: frozenset[int] = frozenset()
    launches: frozenset[str] = frozenset()
    ids: frozenset[int] = frozenset()
    slugs: frozenset[str] = frozenset()
    locations: frozenset[str] = frozenset()
    searches: frozenset[str] = frozenset()
    video_urls: frozenset[str] = frozenset()
    webcast: bool | None = None
    after: datetime | None = None  # inclusive
    before: datetime | None = None  # inclusive
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    years: frozenset[int] = frozenset()
    months: frozenset[int] = frozenset()
    days: frozenset[int] = frozenset()
    vague: str = "mark"
    alarms: tuple[int, ...] = ()
    # Launch filters (new fields go last: `canonical` of older queries must not change).
    launch_ids: frozenset[str] = frozenset()
    rockets: frozenset[str] = frozenset()  # slugs
    exclude_rockets: frozenset[str] = frozenset()
    statuses: frozenset[int] = frozenset()  # LL2 launch status ids
    exclude_statuses: frozenset[int] = frozenset()
    orbits: frozenset[str] = frozenset()  # slugs of name or abbreviation
    exclude_orbits: frozenset[str] = frozenset()
    mission_types: frozenset[str] = frozenset()
    exclude_mission_types: frozenset[str] = frozenset()
    pads: frozenset[str] = frozenset()  # pad ids, or folded text of pad and location
    exclude_pads: frozenset[str] = frozenset()
    include: frozenset[str] = EVENTS_ONLY  # the kinds of item in the feed

    @classmethod
    def from_args(
        cls,
        args: Mapping[str, Any] | Iterable[tuple[str, str]],
        catalog: Catalog,
        include: frozenset[str] = EVENTS_ONLY,
    ) -> FeedQuery:
        """Parse request arguments (a MultiDict, a dict or pairs); QueryError when bad.
        `include` is what the route shows when the query does not say."""
        values = _collect(args)
        return _Parser(values, catalog, include).query()

    @classmethod
    def from_string(
        cls, query: str, catalog: Catalog, include: frozenset[str] = EVENTS_ONLY
    ) -> FeedQuery:
        """Parse a raw query string such as ``"type=docking&vague=hide"``."""
        pairs = parse_qsl(query.lstrip("?"), keep_blank_values=True)
        return cls.from_args(pairs, catalog, include)

    def canonical(self) -> str:
        """The query as a normalised string: equal queries, equal strings, in any process."""
        parts = []
        for field in fields(self):
            value = getattr(self, field.name)
            if value in (None, (), frozenset()) or (field.name, value) in (
                ("vague", "mark"),
                ("include", EVENTS_ONLY),
            ):
                continue
            if isinstance(value, frozenset | tuple):
                text = ",".join(str(v) for v in sorted(value))
            elif isinstance(value, datetime):
                text = value.isoformat()
            else:
                text = str(value).lower()
            parts.append((field.name, text))
        return urlencode(parts)

    def to_params(self, catalog: Catalog) -> list[tuple[str, str]]:
        """Readable query parameters that parse back to this query (slugs, ISO dates).

        The order is fixed (the builder page's JavaScript writes the same order).
        """
        params: list[tuple[str, str]] = []

        def add(name: str, values: Iterable[Any]) -> None:
            text = ",".join(str(v) for v in values)
            if text:
                params.append((name, text))

        for name, field, kind in (
            ("program", self.programs, catalog.programs),
            ("agency", self.agencies, catalog.agencies),
            ("type", self.types, catalog.types),
            ("exclude_program", self.exclude_programs, catalog.programs),
            ("exclude_agency", self.exclude_agencies, catalog.agencies),
            ("exclude_type", self.exclude_types, catalog.types),
        ):
            add(name, sorted(kind.slug(i) if i in kind.items else str(i) for i in field))
        add("location", sorted(self.locations))
        add("search", sorted(self.searches))
        if self.webcast is not None:
            add("webcast", ["1" if self.webcast else "0"])
        if self.vague != "mark":
            add("vague", [self.vague])
        add("alarm", self.alarms)
        if self.after:
            add("start", [_moment_text(self.after)])
        if self.before:
            add("end", [_moment_text(self.before, end=True)])
        add("year", sorted(self.years))
        add("month", sorted(self.months))
        add("day", sorted(self.days))
        add("id", sorted(self.ids))
        add("slug", sorted(self.slugs))
        add("spacestation__ids", sorted(self.spacestations))
        add("expedition__ids", sorted(self.expeditions))
        add("launch__ids", sorted(self.launches))
        add("video_url", sorted(self.video_urls))
        if self.updated_after:
            add("last_updated__gte", [_moment_text(self.updated_after)])
        if self.updated_before:
            add("last_updated__lte", [_moment_text(self.updated_before, end=True)])
        add("id", sorted(self.launch_ids))
        add("rocket", sorted(self.rockets))
        add("exclude_rocket", sorted(self.exclude_rockets))
        add("status", [LAUNCH_STATUSES[i][0] for i in sorted(self.statuses)])
        add("exclude_status", [LAUNCH_STATUSES[i][0] for i in sorted(self.exclude_statuses)])
        add("orbit", sorted(self.orbits))
        add("exclude_orbit", sorted(self.exclude_orbits))
        add("mission_type", sorted(self.mission_types))
        add("exclude_mission_type", sorted(self.exclude_mission_types))
        add("pad", sorted(self.pads))
        add("exclude_pad", sorted(self.exclude_pads))
        if self.include != EVENTS_ONLY:
            add("include", [PLURAL[kind] for kind in sorted(self.include, key=_KIND_ORDER.index)])
        return params

    def query_string(self, catalog: Catalog) -> str:
        """`to_params` as a URL query string, commas left readable."""
        return urlencode(self.to_params(catalog), safe=",:")

    @property
    def uses_default_window(self) -> bool:
        """True unless the query says where to start (a lower bound, a year, an id)."""
        return self.after is None and not (self.years or self.ids or self.slugs or self.launch_ids)

    def window(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        low = now - DEFAULT_LOOKBACK if self.uses_default_window else self.after
        return low, self.before


_KIND_ORDER = (Event.kind, Launch.kind)


def fold(text: str) -> str:
    """Case- and accent-insensitive form of free text, for substring matching."""
    return " ".join(slugify(text).split("-"))


def query_key(query: FeedQuery) -> str:
    """A short stable digest of the query (calendar UID, cache keys)."""
    return hashlib.sha256(query.canonical().encode()).hexdigest()[:16]


def _collect(args: Mapping[str, Any] | Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Canonical parameter → all its values (comma lists split); tracking parameters
    skipped, unknown names refused."""
    if hasattr(args, "lists"):
        pairs = [(k, v) for k, vs in args.lists() for v in vs]
    elif isinstance(args, Mapping):
        pairs = [(str(k), str(v)) for k, v in args.items()]
    else:
        pairs = [(str(k), str(v)) for k, v in args]
    values: dict[str, list[str]] = {}
    for raw_name, raw_value in pairs:
        name = raw_name.strip().lower()
        if is_tracking(name):
            continue
        if name not in KNOWN:
            close = difflib.get_close_matches(name, KNOWN, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise QueryError(f"unknown parameter '{shown(raw_name)}'{hint}", tuple(close))
        if name in IGNORED:
            continue
        name = _CANONICAL.get(name, name)
        items = [v.strip() for v in raw_value.split(",") if v.strip()]
        bucket = values.setdefault(name, [])
        bucket.extend(items)
        if len(bucket) > MAX_VALUES:
            raise QueryError(f"too many values for '{name}' (at most {MAX_VALUES})")
        for item in items:
            if len(item) > MAX_VALUE_LENGTH:
                raise QueryError(f"a value of '{name}' is longer than {MAX_VALUE_LENGTH} chars")
    return values


class _Parser:
    """Turns collected values into a FeedQuery, one parameter at a time."""

    def __init__(
        self, values: dict[str, list[str]], catalog: Catalog, include: frozenset[str]
    ) -> None:
        self.values = values
        self.catalog = catalog
        self.default_include = include

    def query(self) -> FeedQuery:
        c = self.catalog
        lows = [self.moment("start"), self.moment("date__gt", shift=_ONE)]
        highs = [self.moment("end", end_of_day=True), self.moment("date__lt", shift=-_ONE)]
        return FeedQuery(
            agencies=self.names("agency", c.agencies),
            programs=self.names("program", c.programs),
            types=self.names("type", c.types),
            exclude_agencies=self.names("exclude_agency", c.agencies),
            exclude_programs=self.names("exclude_program", c.programs),
            exclude_types=self.names("exclude_type", c.types),
            spacestations=self.numbers("spacestation__ids"),
            expeditions=self.numbers("expedition__ids"),
            launches=frozenset(v.lower() for v in self.values.get("launch__ids", [])),
            ids=self.event_ids(),
            # Item slugs are our word_slug of LL2's, so a pasted LL2 slug is folded the same way.
            slugs=frozenset(word_slug(v) or v.lower() for v in self.values.get("slug", [])),
            locations=self.texts("location"),
            searches=self.texts("search"),
            video_urls=frozenset(self.values.get("video_url", [])),
            webcast=self.flag("webcast"),
            after=max((d for d in lows if d), default=None),
            before=min((d for d in highs if d), default=None),
            updated_after=self.moment("last_updated__gte"),
            updated_before=self.moment("last_updated__lte", end_of_day=True),
            years=self.numbers("year", *YEARS),
            months=self.numbers("month", 1, 12),
            days=self.numbers("day", 1, 31),
            vague=self.choice("vague", VAGUE_MODES, "mark"),
            alarms=self.alarms(),
            launch_ids=self.launch_ids(),
            rockets=self.words("rocket"),
            exclude_rockets=self.words("exclude_rocket"),
            statuses=self.statuses("status"),
            exclude_statuses=self.statuses("exclude_status"),
            orbits=self.words("orbit"),
            exclude_orbits=self.words("exclude_orbit"),
            mission_types=self.words("mission_type"),
            exclude_mission_types=self.words("exclude_mission_type"),
            pads=self.pads("pad"),
            exclude_pads=self.pads("exclude_pad"),
            include=self.include(),
        )

    def include(self) -> frozenset[str]:
        given = self.values.get("include", [])
        kinds: set[str] = set()
        for value in given:
            word = value.lower()
            if word == "all":
                kinds |= EVERYTHING
            elif word in INCLUDE_WORDS:
                kinds.add(INCLUDE_WORDS[word])
            else:
                raise QueryError(
                    f"include takes events, launches or both (events,launches), "
                    f"got '{shown(value)}'"
                )
        return frozenset(kinds) or self.default_include

    def event_ids(self) -> frozenset[int]:
        numbers = [v for v in self.values.get("id", []) if not _UUID.match(v.lower())]
        for value in numbers:
            if not _is_number(value):
                raise QueryError(
                    f"id takes event ids (whole numbers) or launch ids (UUIDs), "
                    f"got '{shown(value)}'"
                )
        return frozenset(int(v) for v in numbers)

    def launch_ids(self) -> frozenset[str]:
        return frozenset(v.lower() for v in self.values.get("id", []) if _UUID.match(v.lower()))

    def words(self, name: str) -> frozenset[str]:
        """Slugs of launch names (rockets, orbits, mission types). Any well-formed name is
        kept, known or not: the snapshot only holds recent launches, so a rocket before its
        first listed flight (or an orbit not used this month) is an empty feed, not an error;
        `unmatched_names` says so in the JSON."""
        result = set()
        for value in self.values.get(name, []):
            word = word_slug(value)
            if not word:
                raise QueryError(f"{name} needs a name, got '{shown(value)}'")
            result.add(word)
        return frozenset(result)

    def statuses(self, name: str) -> frozenset[int]:
        result = set()
        for value in self.values.get(name, []):
            word = slugify(value)
            if _is_number(value) and int(value) in LAUNCH_STATUSES:
                result.add(int(value))
            elif word in STATUS_WORDS:
                result.add(STATUS_WORDS[word])
            else:
                choices = ", ".join(words[0] for words in LAUNCH_STATUSES.values())
                raise QueryError(f"{name} must be one of {choices}, got '{shown(value)}'")
        return frozenset(result)

    def pads(self, name: str) -> frozenset[str]:
        """Pad ids as digits, anything else as text to find in "<pad>, <location>"."""
        result = set()
        for value in self.values.get(name, []):
            text = value if _is_number(value) else fold(value)
            if not text.strip(" -_.,"):
                raise QueryError(f"{name} needs a pad id or name, got '{shown(value)}'")
            result.add(text)
        return frozenset(result)

    def names(self, name: str, kind: Kind) -> frozenset[int]:
        return frozenset(kind.resolve(v) for v in self.values.get(name, []))

    def numbers(self, name: str, low: int = 0, high: int = 10**9) -> frozenset[int]:
        result = set()
        for value in self.values.get(name, []):
            if not _is_number(value) or not low <= int(value) <= high:
                raise QueryError(
                    f"{name} takes whole numbers from {low} to {high}, got '{shown(value)}'"
                )
            result.add(int(value))
        return frozenset(result)

    def texts(self, name: str) -> frozenset[str]:
        return frozenset(f for f in (fold(v) for v in self.values.get(name, [])) if f)

    def single(self, name: str) -> str | None:
        given = self.values.get(name, [])
        if len(given) > 1:
            raise QueryError(f"{name} takes one value, got {len(given)}")
        return given[0] if given else None

    def flag(self, name: str) -> bool | None:
        value = self.single(name)
        if value is None:
            return None
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise QueryError(f"{name} must be 1 or 0, got '{shown(value)}'")

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = (self.single(name) or default).lower()
        if value not in allowed:
            raise QueryError(f"{name} must be one of {', '.join(allowed)}, got '{shown(value)}'")
        return value

    def moment(
        self, name: str, *, end_of_day: bool = False, shift: timedelta = timedelta(0)
    ) -> datetime | None:
        value = self.single(name)
        if value is None:
            return None
        parsed = parse_moment(value, end_of_day=end_of_day)
        if parsed is not None and not _in_years(parsed + shift):
            parsed = None
        if parsed is None:
            raise QueryError(
                f"{name} must be an ISO date or datetime (2026-06-01 or 2026-06-01T12:00:00Z), "
                f"got '{shown(value)}'"
            )
        return parsed + shift

    def alarms(self) -> tuple[int, ...]:
        given = self.values.get("alarm", [])
        message = f"alarm must be 1–{MAX_ALARMS} values between 0 and {MAX_ALARM_MINUTES} minutes"  # noqa: RUF001
        if len(given) > MAX_ALARMS:
            raise QueryError(message)
        minutes = set()
        for value in given:
            if not _is_number(value) or int(value) > MAX_ALARM_MINUTES:
                raise QueryError(message)
            minutes.add(int(value))
        return tuple(sorted(minutes))


def _is_number(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts '²', which int() refuses."""
    return text.isascii() and text.isdigit() and len(text) <= 12


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _moment_text(value: datetime, *, end: bool = False) -> str:
    """Shortest text that `parse_moment` reads back to the same instant (a date alone is
    the first instant of the day, or for an end bound the last)."""
    if value.time() == (time.max if end else time.min):
        return value.date().isoformat()
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


def parse_moment(text: str, *, end_of_day: bool = False) -> datetime | None:
    """An ISO date or datetime as aware UTC; a date alone is its first (or last) instant."""
    text = text.strip()
    if _DATE_ONLY.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None
        if not YEARS[0] <= day.year <= YEARS[1]:
            return None
        return datetime.combine(day, time.max if end_of_day else time.min, UTC)
    # A '+' in a query string arrives as a space: "2026-06-01T12:00:00 02:00".
    text = re.sub(r" (\d\d:?\d\d)$", r"+\1", text)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not _in_years(value):  # before converting: year 1 or 9999 would overflow
        return None
    value = value.astimezone(UTC)
    # Checked in UTC too: "2200-12-31T23:59:59-14:00" is already 2201, which no URL carries.
    return value if _in_years(value) else None


def _in_years(value: datetime) -> bool:
    return YEARS[0] <= value.year <= YEARS[1]
