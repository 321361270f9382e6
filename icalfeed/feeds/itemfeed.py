"""The calendar of one item (`/launches/<id>.ics`, `/events/<id>.ics`): exactly the VEVENT
every feed gives the item, whatever its date, in a calendar named after it, and the one
parameter it takes (`alarm=`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime

from ..data.catalog import Catalog
from ..data.snapshot import Entry, Snapshot
from ..ll2.models import Launch
from . import ics
from .asof import sample_note
from .meaning import Meaning
from .output import Rendered, data_changed_at
from .query import FeedQuery, only_parameters
from .titles import CalendarMeta

ITEM_PARAMETERS = ("alarm",)
# No default window moves an item's calendar at midnight: only its data does.
_NO_DAY = datetime.min.replace(tzinfo=UTC)


def item_alarms(args: Iterable[tuple[str, str]], catalog: Catalog) -> tuple[int, ...]:
    """The reminders a one-item calendar is asked for (`alarm=`, validated as the feeds
    validate it); tracking parameters are ignored, any other is a QueryError naming it."""
    kept = only_parameters(args, ITEM_PARAMETERS, "a one-item calendar")
    return FeedQuery.from_args(kept, catalog).alarms


def item_meta(entry: Entry) -> CalendarMeta:
    """The calendar named after its item, with a UID of its own (RFC 7986 §5.3)."""
    item = entry.item
    noun = "launch" if isinstance(item, Launch) else "event"
    name = Meaning.of_entry(entry).name
    return CalendarMeta(
        name=name,
        description=(
            f"One spaceflight {noun}, followed through every move: {name}. "
            "Data: Launch Library 2 by The Space Devs. Made by icalfeed."
        ),
        uid=f"icalfeed-{item.kind}-{item.id}",
        filename=f"{item.slug or item.kind}.ics",
    )


def render_item(
    snapshot: Snapshot,
    entry: Entry,
    alarms: tuple[int, ...] = (),
    pieces: Callable[[Entry, tuple[int, ...]], bytes] | None = None,
) -> Rendered:
    """The one-item calendar's bytes: the VEVENT from `pieces` (the feeds' cache, so the
    same bytes, UID and SEQUENCE), cancelled while a removed item's grace lasts."""
    meta = item_meta(entry)
    note = sample_note(snapshot, (entry.kind,))
    if note:  # the packaged sample says so, as every feed does
        meta = replace(meta, description=f"{meta.description} {note.replace('; ', ': ')}")
    body = ics.render((entry,), meta, alarms, pieces)
    changed = data_changed_at(snapshot, (entry,), _NO_DAY)
    return Rendered(body, changed, meta.filename, meta.name)
