"""Field helpers that event and launch parsing share: LL2 precision, durations and
timestamps, slugs, and the coercions that turn untrusted JSON values into clean text,
numbers and URLs.  Nothing here knows an event from a launch."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

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
        ident: Any = raw.get("id")
        try:
            return cls(int(ident))
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


def item_key(kind: str, item_id: object) -> str:
    """``event:1327`` or ``launch:<uuid>``."""
    return f"{kind}:{item_id}"


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


def utc_stamp(moment: datetime) -> str:
    """A moment in UTC to the second, as LL2, feeds and pages write it:
    ``2026-07-20T14:49:00Z`` (`parse_datetime` reads it back)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.lru_cache(maxsize=8192)
def slugify(text: str) -> str:
    """``"SpaceX Starship"`` → ``"spacex-starship"``; accents folded, ASCII only (a few
    hundred names recur across 10,000 items: remembered)."""
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


def as_int(raw: Any) -> int | None:
    """An int, or a string of digits as one; None for anything else (a bool is not a number)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw)
    return None


def as_text(raw: Any) -> str:
    """A string with its surrounding white space stripped; empty for anything else."""
    return raw.strip() if isinstance(raw, str) else ""


def as_line(raw: Any) -> str:
    """Text for one line: control characters dropped, white space folded."""
    if not isinstance(raw, str):
        return ""
    return _short_line(raw) if len(raw) <= MAX_REMEMBERED_LINE else _line(raw)


# Names of rockets, pads, agencies and places recur across 10,000 launches: a short line is
# cleaned once, and every launch that names it shares the one string.
MAX_REMEMBERED_LINE = 120


@functools.lru_cache(maxsize=16384)
def _short_line(text: str) -> str:
    return _line(text)


def _line(text: str) -> str:
    return " ".join(_CONTROLS.sub("", text).split())


_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
_URL = re.compile(r"^https?://[^\s\x00-\x1f\x7f]+$", re.IGNORECASE)


def as_url(raw: Any) -> str | None:
    """An http(s) URL with nothing in it that could break a header or an iCalendar line."""
    text = as_text(raw)
    return text if _URL.match(text) else None


def as_list(raw: Any) -> list[Any]:
    """A list as it is; an empty one for anything else."""
    return raw if isinstance(raw, list) else []


def each(raw: Any, build: Any) -> Iterable[Any]:
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
