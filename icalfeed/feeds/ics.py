"""Events and launches → iCalendar bytes (RFC 5545 + RFC 7986).  Pure and deterministic: the same
snapshot and selection always give the same bytes, so ETags hold between polls."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from icalendar import Alarm, Calendar, vDuration, vText
from icalendar import Event as VEvent
from icalendar.enums import CLASS, STATUS, TRANSP

from .. import __version__
from ..data.snapshot import Entry, Move
from ..ll2.models import Event, Launch
from .meaning import ATTRIBUTION, Meaning, launch_window, period_label
from .titles import CalendarMeta

PRODID = f"-//icalfeed//icalfeed {__version__}//EN"
# Calendar servers poll at their own pace; this is our suggestion (RFC 7986 §5.7).
REFRESH = timedelta(hours=1)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


END = b"END:VCALENDAR\r\n"


def render(
    entries: Sequence[Entry],
    meta: CalendarMeta,
    alarms: Sequence[int] = (),
    pieces: Callable[[Entry, tuple[int, ...]], bytes] | None = None,
) -> bytes:
    """The whole VCALENDAR for these entries, in the order given.

    Each VEVENT is serialised on its own and the bytes joined: exactly what icalendar
    writes for the calendar with the events inside, but `pieces` (a cache) can supply an
    event's bytes without building it again.
    """
    piece = pieces or vevent_bytes
    wanted = tuple(alarms)
    parts = [calendar_head(meta)[: -len(END)]]
    parts += (piece(entry, wanted) for entry in entries)
    parts.append(END)
    return b"".join(parts)  # one full-size buffer, however big the feed


def calendar_head(meta: CalendarMeta) -> bytes:
    """The VCALENDAR with its properties and no events."""
    # Calendar.new adds X-WR-CALNAME/X-WR-CALDESC itself; the UID is ours, so it is stable.
    calendar = Calendar.new(
        prodid=PRODID,
        calscale="GREGORIAN",
        name=clean_meta(meta.name),
        description=clean_meta(meta.description),
        uid=meta.uid,
    )
    calendar.add("REFRESH-INTERVAL", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", vDuration(REFRESH))
    head: bytes = calendar.to_ical()
    return head


def vevent_bytes(entry: Entry, alarms: tuple[int, ...] = ()) -> bytes:
    """One VEVENT serialised, reminders included (see `Piece`)."""
    return Piece.build(entry).with_alarms(alarms)


@dataclass(frozen=True, slots=True)
class Piece:
    """An item's VEVENT without reminders, and the opening of its VALARM: what a cache keeps
    so that any `alarm=` costs what no alarm costs (the VALARMs are spliced in as bytes,
    the same bytes icalendar writes for them)."""

    body: bytes  # BEGIN:VEVENT … END:VEVENT
    alarm_head: bytes | None  # BEGIN:VALARM … DESCRIPTION; None: no reminders for it

    @classmethod
    def build(cls, entry: Entry) -> Piece:
        """Serialise with icalendar's content lines, folded by `fold` (its own
        character-by-character folding was 42 % of a cold render of 1,000 events)."""
        lines = vevent(entry).content_lines()
        body = b"".join(fold(line).encode() + b"\r\n" for line in lines if line)
        item = entry.item
        if not Meaning.of_entry(entry).reminders:
            return cls(body, None)
        description = vText(clean_line(item.name)).to_ical().decode()
        head = b"BEGIN:VALARM\r\nACTION:DISPLAY\r\n" + fold(f"DESCRIPTION:{description}").encode()
        return cls(body, head + b"\r\n")

    def with_alarms(self, alarms: Sequence[int]) -> bytes:
        if not alarms or self.alarm_head is None:
            return self.body
        block = b"".join(self.alarm_head + _trigger(minutes) for minutes in alarms)
        return self.body[: -len(_END_VEVENT)] + block + _END_VEVENT


_END_VEVENT = b"END:VEVENT\r\n"


@functools.lru_cache(maxsize=4096)
def _trigger(minutes: int) -> bytes:
    """TRIGGER and the VALARM's end, as icalendar writes them (RFC 5545 §3.8.6.3)."""
    value: bytes = vDuration(timedelta(minutes=-minutes)).to_ical()  # type: ignore[no-untyped-call]
    return b"TRIGGER:" + value + b"\r\nEND:VALARM\r\n"


def fold(line: str, limit: int = 75) -> str:
    """Fold a content line at `limit` octets (RFC 5545 §3.1) the way icalendar 7 does: parts
    of at most limit - 1 octets, never splitting a UTF-8 sequence, and never ending a part
    with a backslash or caret (so escapes stay whole for old clients)."""
    if line.isascii():
        if len(line) < limit:
            return line
        parts = []
        start, size = 0, limit - 1
        while len(line) - start > size:
            end = start + size
            if line[end - 1] in "\\^" and end - start > 1:
                end -= 1
            parts.append(line[start:end])
            start = end
        parts.append(line[start:])
        return "\r\n ".join(parts)
    parts = []
    current: list[str] = []
    count = 0
    for char in line:
        width = len(char.encode())
        if current and count + width >= limit:
            if len(current) > 1 and current[-1] in "\\^":
                carried = current.pop()
                parts.append("".join(current))
                current, count = [carried], len(carried.encode())
            else:
                parts.append("".join(current))
                current, count = [], 0
        current.append(char)
        count += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def vevent(entry: Entry, alarms: Sequence[int] = ()) -> VEvent:
    """One VEVENT for an event or a launch; its UID depends on the LL2 id alone."""
    item = entry.item
    if isinstance(item, Launch):
        return launch_vevent(
            item,
            sequence=entry.sequence,
            first_seen=entry.first_seen,
            removed_at=entry.removed_at,
            alarms=alarms,
            moves=entry.moves,
        )
    return event_vevent(item, entry, alarms)


def event_vevent(event: Event, entry: Entry, alarms: Sequence[int] = ()) -> VEvent:
    """One LL2 event as a VEVENT."""
    meaning = Meaning.of_entry(entry)
    component = _component(meaning, entry.sequence, describe(event, entry.removed_at, meaning))
    if event.image_url:
        component.add("IMAGE", event.image_url, parameters={"VALUE": "URI"})
    _add_alarms(component, meaning, alarms, event.name)
    return component


def _component(meaning: Meaning, sequence: int, description: str) -> VEvent:
    """The VEVENT's properties every item has, as its meaning says."""
    return VEvent.new(
        uid=meaning.uid,
        stamp=meaning.revised,
        last_modified=meaning.revised,
        sequence=sequence,
        summary=clean_line(meaning.title),
        start=meaning.start,
        end=meaning.end,
        description=clean_text(description),
        location=clean_line(meaning.location) if meaning.location else None,
        url=meaning.webcast,
        categories=[clean_line(c) for c in meaning.categories],
        status=STATUS(meaning.status),
        transparency=TRANSP.TRANSPARENT,
        classification=CLASS.PUBLIC,
    )


def _add_alarms(component: VEvent, meaning: Meaning, alarms: Sequence[int], name: str) -> None:
    if meaning.reminders:
        for minutes in alarms:
            component.add_component(alarm(minutes, name))


def alarm(minutes: int, name: str) -> Alarm:
    """A DISPLAY reminder `minutes` before the start (RFC 5545 §3.6.6)."""
    component = Alarm()
    component.add("ACTION", "DISPLAY")
    component.add("TRIGGER", timedelta(minutes=-minutes))
    component.add("DESCRIPTION", clean_line(name))
    return component


def describe(
    event: Event, removed_at: datetime | None = None, meaning: Meaning | None = None
) -> str:
    """Plain text that reads well in the small description box of a calendar app."""
    lines: list[str] = []
    if removed_at is not None:
        lines += [f"Removed from Launch Library 2 on {removed_at:%Y-%m-%d}.", ""]
    if event.type:
        lines.append(f"Type: {event.type.name}")
    if event.precision.is_timed:
        lines.append(f"When: {event.start:%Y-%m-%d %H:%M} UTC ({event.precision.label})")
    else:
        period = period_label(event.start, event.precision)
        lines.append(f"When: NET {period} ({event.precision.label})")
    if meaning is not None and meaning.moved:
        lines.append(meaning.moved)
    if event.location:
        lines.append(f"Where: {event.location}")
    if event.agencies:
        lines.append("Agencies: " + ", ".join(a.name for a in event.agencies))
    if event.programs:
        lines.append("Programs: " + ", ".join(p.name for p in event.programs))
    if event.launches:
        lines.append("Launches: " + ", ".join(launch.name for launch in event.launches))
    if event.description:
        lines += ["", event.description]
    if event.videos:
        lines += ["", "Watch:"]
        lines += [f"- {v.title or v.publisher or 'Video'}: {v.url}" for v in event.videos]
    if event.info_links:
        lines += ["", "More:"]
        lines += [f"- {link.title or 'Info'}: {link.url}" for link in event.info_links]
    lines += ["", ATTRIBUTION]
    return "\n".join(lines)


def clean_text(text: str) -> str:
    """Multi-line text with control characters removed (RFC 5545 §3.3.11 forbids them)."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def clean_meta(text: str) -> str:
    """Calendar-level text: one line, and no , ; \\ that some clients show unescaped."""
    return clean_line(text.replace(",", " ").replace(";", " ").replace("\\", " "))


def clean_line(text: str) -> str:
    """Single-line text: line breaks become spaces, controls go."""
    return " ".join(clean_text(text).split())


# ----------------------------------------------------------------------------- launches


def launch_vevent(
    launch: Launch,
    *,
    sequence: int,
    first_seen: datetime,
    removed_at: datetime | None = None,
    alarms: Sequence[int] = (),
    moves: tuple[Move, ...] = (),
) -> VEvent:
    """One launch as a VEVENT; its UID depends on the LL2 launch UUID alone."""
    meaning = Meaning.of(launch, first_seen=first_seen, removed_at=removed_at, moves=moves)
    component = _component(meaning, sequence, describe_launch(launch, removed_at, meaning))
    pad = launch.pad
    if pad and pad.latitude is not None and pad.longitude is not None:
        component.add("GEO", (pad.latitude, pad.longitude))
    if launch.image_url:
        component.add("IMAGE", launch.image_url, parameters={"VALUE": "URI"})
    _add_alarms(component, meaning, alarms, launch.name)
    return component


def describe_launch(
    launch: Launch, removed_at: datetime | None = None, meaning: Meaning | None = None
) -> str:
    """Plain text for a calendar's description box."""
    lines: list[str] = []
    if removed_at is not None:
        lines += [f"Removed from Launch Library 2 on {removed_at:%Y-%m-%d}.", ""]
    if launch.status:
        lines.append(f"Status: {launch.status.name}")
    for label, reason in (
        ("Hold", launch.hold_reason),
        ("Failure", launch.fail_reason),
        ("Weather", launch.weather),
    ):
        if reason:
            lines.append(f"{label}: {reason}")
    if launch.precision.is_timed:
        lines.append(f"When: {launch.net:%Y-%m-%d %H:%M} UTC ({launch.precision.label})")
        window = launch_window(launch)
        if window:
            opens, closes = window
            shown = "%H:%M" if closes.date() == opens.date() else "%Y-%m-%d %H:%M"
            lines.append(f"Window: {opens.strftime(shown)}–{closes.strftime(shown)} UTC")  # noqa: RUF001
    else:
        period = period_label(launch.net, launch.precision)
        lines.append(f"When: NET {period} ({launch.precision.label})")
    if meaning is not None and meaning.moved:
        lines.append(meaning.moved)
    for label, value in (
        ("Provider", launch.provider_name),
        ("Rocket", launch.rocket),
        ("Mission", launch.mission),
        ("Mission type", launch.mission_type),
        ("Orbit", launch.orbit),
    ):
        if value:
            lines.append(f"{label}: {value}")
    if launch.probability is not None:
        lines.append(f"Probability of launch: {launch.probability} %")
    if launch.pad:
        lines.append(f"Pad: {launch.location}")
        if launch.pad.map_url:
            lines.append(f"Map: {launch.pad.map_url}")
    if launch.mission_description:
        lines += ["", launch.mission_description]
    if launch.updates:
        lines += ["", "Latest from Launch Library 2:"]
        for update in launch.updates:
            when = f"{update.at:%-d %b %Y %H:%M} UTC: " if update.at else ""
            link = f" ({update.url})" if update.url else ""
            lines.append(f"- {when}{update.comment}{link}")
    if launch.videos:
        lines += ["", "Watch:"]
        lines += [f"- {v.title or v.publisher or 'Video'}: {v.url}" for v in launch.videos]
    if launch.info_links:
        lines += ["", "More:"]
        lines += [f"- {link.title or 'Info'}: {link.url}" for link in launch.info_links]
    lines += ["", ATTRIBUTION]
    return "\n".join(lines)
