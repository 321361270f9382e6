"""What an event or launch means, whoever shows it: its span and how well its date is known,
its title, status, best webcast, place and categories.

Computed once here and read by every output (`ics`, `jsonfeed`, `pages`), which only format
it: the calendar, the JSON and the pages cannot disagree about an item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..data.snapshot import Entry, Move
from ..ll2.models import PLURAL, Event, Item, Launch, Precision, Video

ATTRIBUTION = "Data: Launch Library 2 by The Space Devs (https://thespacedevs.com/llapi)"
CANCELLED_PREFIX = "Cancelled: "
# A longer "window" on a timed launch is a placeholder, not a time to block out.
MAX_LAUNCH_WINDOW = timedelta(days=2)
_QUARTERS = {
    Precision.QUARTER_1: "Q1",
    Precision.QUARTER_2: "Q2",
    Precision.QUARTER_3: "Q3",
    Precision.QUARTER_4: "Q4",
}


@dataclass(frozen=True, slots=True)
class Meaning:
    """An item as every output shows it."""

    uid: str
    name: str  # "<rocket> | <mission>" for a launch when both are known, else LL2's name
    net: str | None  # "NET June 2026" when the date is vague, else None
    title: str  # the calendar's title: NET-prefixed when vague, "Cancelled: …" when gone
    start: date | datetime  # a date when not timed (all day)
    end: date | datetime | None  # exclusive; None: a moment with no known duration
    status: str  # CONFIRMED, TENTATIVE or CANCELLED (RFC 5545 §3.8.1.11 words)
    cancelled: bool
    revised: datetime  # when it last changed: LL2's edit, or our cancellation when later
    webcast: str | None
    location: str | None
    categories: tuple[str, ...]
    reminders: bool  # whether `alarm=` reminders belong on it
    moves: tuple[Move, ...] = ()  # its earlier dates, newest first

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def plain_title(self) -> str:
        """The name, "Cancelled: "-prefixed when gone, without the NET period (for a page
        that shows the period beside it)."""
        return cancelled_title(self.name, self.cancelled)

    @property
    def moved(self) -> str | None:
        """Its earlier dates in words, newest first: "Moved 2 times: was 12 Dec 2026
        14:00 UTC until 3 Dec 2026; was NET December 2026 until 1 Nov 2026"."""
        if not self.moves:
            return None
        count = len(self.moves)
        earlier = "; ".join(
            f"was {date_words(m.start, m.precision)} until {m.until:%-d %b %Y}" for m in self.moves
        )
        return f"Moved {count} time{'s' if count > 1 else ''}: {earlier}"

    @classmethod
    def of_entry(cls, entry: Entry) -> Meaning:
        """The meaning of a snapshot entry (what every output shows)."""
        return cls.of(
            entry.item, first_seen=entry.first_seen, removed_at=entry.removed_at, moves=entry.moves
        )

    @classmethod
    def of(
        cls,
        item: Item,
        *,
        first_seen: datetime,
        removed_at: datetime | None,
        moves: tuple[Move, ...] = (),
    ) -> Meaning:
        """The meaning of an item as icalfeed holds it: first seen at `first_seen` (the
        stamp of items LL2 never dated), gone upstream since `removed_at` (or not), earlier
        dates `moves`."""
        cancelled = removed_at is not None
        if isinstance(item, Launch):
            name, (start, end) = launch_name(item), launch_span(item)
            status, categories = launch_status(item, cancelled), launch_categories(item)
        else:
            name, (start, end) = item.name, event_span(item)
            status, categories = event_status(item, cancelled), event_categories(item)
        net = f"NET {period_label(item.start, item.precision)}" if item.precision.is_vague else None
        return cls(
            uid=f"ll2-{item.kind}-{item.id}@icalfeed",
            name=name,
            net=net,
            title=cancelled_title(f"{net}: {name}" if net else name, cancelled),
            start=start,
            end=end,
            status=status,
            cancelled=cancelled,
            revised=revised_at(item.last_updated or first_seen, removed_at),
            webcast=best_video_url(item.videos),
            location=item.location,
            categories=categories,
            reminders=takes_reminders(item, removed_at),
            moves=moves,
        )


def page_path(item: Item) -> str:
    """The path of an item's own page: ``/launches/<uuid>`` or ``/events/<id>``."""
    return f"/{PLURAL[item.kind]}/{item.id}"


def takes_reminders(item: Item, removed_at: datetime | None) -> bool:
    """`alarm=` reminders go on timed items only, and never on one gone upstream: a reminder
    of it would be spam (Thunderbird fires VALARMs of subscribed calendars)."""
    return item.precision.is_timed and removed_at is None


def revised_at(stamp: datetime, removed_at: datetime | None) -> datetime:
    """LL2's last edit, or our cancellation when later (without METHOD, DTSTAMP is when the
    event was last revised, RFC 5545 §3.8.7.2)."""
    return max(stamp, removed_at) if removed_at is not None else stamp


def cancelled_title(title: str, cancelled: bool) -> str:
    """ "Cancelled: …" for an item gone upstream: Outlook and Apple Calendar show a
    STATUS:CANCELLED subscription event like any other, so the title must say it."""
    return f"{CANCELLED_PREFIX}{title}" if cancelled else title


def period_label(when: datetime, precision: Precision) -> str:
    """The period a NET date stands for, at `precision`: "June 2026", "Q3 2026", "H1 2027",
    "2030s"."""
    if precision is Precision.WEEK:
        return f"week of {when:%-d %B %Y}"
    if precision is Precision.MONTH:
        return f"{when:%B %Y}"
    if precision in _QUARTERS:
        return f"{_QUARTERS[precision]} {when.year}"
    if precision is Precision.HALF_1:
        return f"H1 {when.year}"
    if precision is Precision.HALF_2:
        return f"H2 {when.year}"
    if precision is Precision.YEAR:
        return str(when.year)
    if precision is Precision.FISCAL_YEAR:
        return f"FY {when.year}"
    if precision is Precision.DECADE:
        return f"{when.year // 10 * 10}s"
    return f"{when:%-d %B %Y}"


def date_words(when: datetime, precision: Precision) -> str:
    """A date as well as it is known: "12 Dec 2026 14:00 UTC", "12 Dec 2026", "NET Q3 2026"."""
    if precision.is_timed:
        return f"{when:%-d %b %Y %H:%M} UTC"
    if precision.is_day:
        return f"{when:%-d %b %Y}"
    return f"NET {period_label(when, precision)}"


def best_video_url(videos: Sequence[Video]) -> str | None:
    """Live first, then official webcasts, then LL2's own priority (lower is better)."""
    if not videos:
        return None
    ranked = sorted(
        videos,
        key=lambda v: (
            not v.live,
            not (v.kind or "").lower().startswith("official"),  # not "Unofficial"
            v.priority if v.priority is not None else 1_000,
        ),
    )
    return ranked[0].url


# ------------------------------------------------------------------------------- events


def event_span(event: Event) -> tuple[date | datetime, date | datetime | None]:
    """Start and exclusive end as the precision allows: timed, or all day."""
    if event.precision.is_timed:
        end = event.start + event.duration if event.duration else None
        return event.start, end
    day = event.start.date()
    return day, day + timedelta(days=1)


def event_status(event: Event, cancelled: bool) -> str:
    if cancelled:
        return "CANCELLED"
    return "TENTATIVE" if event.precision.is_vague else "CONFIRMED"


def event_categories(event: Event) -> tuple[str, ...]:
    names = [event.type.name] if event.type else []
    names += [p.name for p in event.programs]
    names += [a.name for a in event.agencies]
    return tuple(dict.fromkeys(names))


# ----------------------------------------------------------------------------- launches


def launch_span(launch: Launch) -> tuple[date | datetime, date | datetime | None]:
    """Timed launches cover their window when one is known; others as events do."""
    if launch.precision.is_timed:
        window = launch_window(launch)
        return window if window else (launch.net, None)
    day = launch.net.date()
    return day, day + timedelta(days=1)


def launch_window(launch: Launch) -> tuple[datetime, datetime] | None:
    """The launch window when it is believable: it opens before it closes, holds the NET
    (a window left behind by a NET change is stale) and lasts at most MAX_LAUNCH_WINDOW."""
    if launch.window_start is None or launch.window_end is None:
        return None
    # Whole seconds, as the calendar writes them: a microsecond window is no window.
    opens = launch.window_start.replace(microsecond=0)
    closes = launch.window_end.replace(microsecond=0)
    if not opens < closes <= opens + MAX_LAUNCH_WINDOW:
        return None
    return (opens, closes) if opens <= launch.net.replace(microsecond=0) <= closes else None


def launch_name(launch: Launch) -> str:
    """ "<rocket> | <mission>", LL2's own name when either is unknown."""
    if launch.rocket and launch.mission:
        return f"{launch.rocket} | {launch.mission}"
    return launch.name


def launch_status(launch: Launch, cancelled: bool) -> str:
    """Confirmed only when LL2's status is settled and the date is not vague."""
    if cancelled:
        return "CANCELLED"
    settled = launch.status is not None and launch.status.settled
    return "CONFIRMED" if settled and not launch.precision.is_vague else "TENTATIVE"


def launch_categories(launch: Launch) -> tuple[str, ...]:
    names = ["Launch"]
    names += [n for n in (launch.provider_name, launch.rocket, launch.mission_type) if n]
    names += [p.name for p in launch.programs]
    return tuple(dict.fromkeys(names))
