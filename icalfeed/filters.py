"""Feed queries: parsed and validated from a query string, then applied to a snapshot.

Pure: no Flask, no I/O, and `now` is always an argument.  A `FeedQuery` is hashable and
normalised (order of values and parameters does not matter), so it can key a cache.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from .errors import QueryError
from .ics import CalendarMeta
from .models import Event, parse_datetime, slugify
from .snapshot import Entry, Snapshot

DEFAULT_LOOKBACK = timedelta(days=31)
VAGUE_MODES = ("mark", "hide")
KNOWN_PARAMETERS = ("agency", "program", "type", "start", "end", "vague")


@dataclass(frozen=True, slots=True)
class FeedQuery:
    """A normalised selection of events."""

    agencies: frozenset[str] = frozenset()
    programs: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    start: datetime | None = None
    end: datetime | None = None
    vague: str = "mark"

    @classmethod
    def from_args(cls, args: Mapping[str, Any] | Iterable[tuple[str, str]]) -> FeedQuery:
        """Parse request arguments (a MultiDict, a dict or pairs); QueryError when bad."""
        pairs = _pairs(args)
        values: dict[str, list[str]] = {}
        for name, value in pairs:
            key = name.strip().lower()
            if key not in KNOWN_PARAMETERS:
                close = difflib.get_close_matches(key, KNOWN_PARAMETERS, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise QueryError(f"unknown parameter '{name}'{hint}", tuple(close))
            values.setdefault(key, []).extend(v for v in value.split(",") if v.strip())
        vague = (values.get("vague") or ["mark"])[-1].strip().lower()
        if vague not in VAGUE_MODES:
            raise QueryError(f"vague must be one of {', '.join(VAGUE_MODES)}, got '{vague}'")
        return cls(
            agencies=_names(values.get("agency")),
            programs=_names(values.get("program")),
            types=_names(values.get("type")),
            start=_bound("start", values.get("start")),
            end=_bound("end", values.get("end")),
            vague=vague,
        )

    @classmethod
    def from_string(cls, query: str) -> FeedQuery:
        """Parse a raw query string such as ``"type=docking&vague=hide"``."""
        return cls.from_args(parse_qsl(query.lstrip("?"), keep_blank_values=True))

    def canonical(self) -> str:
        """The query as a normalised string: equal queries, equal strings, in any process."""
        parts = [
            ("agency", ",".join(sorted(self.agencies))),
            ("program", ",".join(sorted(self.programs))),
            ("type", ",".join(sorted(self.types))),
            ("start", self.start.isoformat() if self.start else ""),
            ("end", self.end.isoformat() if self.end else ""),
            ("vague", self.vague),
        ]
        return urlencode([(k, v) for k, v in parts if v])

    def window(self, now: datetime) -> tuple[datetime, datetime | None]:
        return (self.start or now - DEFAULT_LOOKBACK, self.end)

    def matches(self, event: Event) -> bool:
        if self.vague == "hide" and event.precision.is_vague:
            return False
        if self.types and not (event.type and _keys(event.type) & self.types):
            return False
        if self.agencies and not any(_keys(a) & self.agencies for a in event.agencies):
            return False
        return not self.programs or any(_keys(p) & self.programs for p in event.programs)

    def calendar_meta(self) -> CalendarMeta:
        picked = sorted(self.programs | self.agencies | self.types)
        # Separators other than commas: some clients show X-WR-CALNAME without unescaping.
        name = "Spaceflight events" + (" — " + " · ".join(picked) if picked else "")
        key = hashlib.sha256(self.canonical().encode()).hexdigest()[:16]
        return CalendarMeta(
            name=name,
            description=f"{name} from Launch Library 2 by The Space Devs via icalfeed",
            uid=f"icalfeed-{key}",
        )


def feed_day(now: datetime) -> datetime:
    """`now` rounded down to the day, so a feed stays byte-identical for a whole day."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def select(snapshot: Snapshot, query: FeedQuery, now: datetime) -> list[Entry]:
    """The entries a feed for `query` shows, in start order."""
    low, high = query.window(now)
    return [
        entry
        for entry in snapshot.ordered_entries
        if entry.event.start >= low
        and (high is None or entry.event.start <= high)
        and query.matches(entry.event)
    ]


def _pairs(args: Mapping[str, Any] | Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    if hasattr(args, "lists"):
        return [(k, v) for k, vs in args.lists() for v in vs]
    if isinstance(args, Mapping):
        return [(str(k), str(v)) for k, v in args.items()]
    return [(str(k), str(v)) for k, v in args]


def _names(values: list[str] | None) -> frozenset[str]:
    return frozenset(slugify(v) or v.strip().lower() for v in values or [])


def _keys(item: Any) -> set[str]:
    """Every spelling a filter may use for an agency, program or type."""
    keys = {str(item.id), slugify(item.name)}
    for extra in ("slug", "abbrev"):
        value = getattr(item, extra, None)
        if value:
            keys.add(slugify(value))
    return keys


def _bound(name: str, values: list[str] | None) -> datetime | None:
    if not values:
        return None
    raw = values[-1].strip()
    parsed = parse_datetime(raw if "T" in raw or " " in raw else raw + "T00:00:00")
    if parsed is None:
        raise QueryError(f"{name} must be an ISO date or datetime, got '{raw}'")
    return parsed.astimezone(UTC)
