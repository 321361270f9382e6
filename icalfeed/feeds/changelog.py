"""The changes of a selection: which logged changes a query's changes feed shows, what each
says in words, and where the feed is reached (whoever writes it: Atom or JSON Feed).

Pure: no Flask, no I/O; `day` is an argument, so a changes feed, like a calendar, is
byte-identical for a whole day while the data is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..data.changes import KEPT_FOR, MOVED, NEW, REMOVED, RESTORED, STATUS, WEBCAST, Change, Dated
from ..data.snapshot import Entry, Snapshot
from ..ll2.models import Event, Launch, item_key
from .meaning import Meaning, date_words, page_path
from .query import FeedQuery
from .select import matcher

# The newest this many changes of a selection are shown (older ones are in the log for
# other selections, and age out after KEPT_FOR).
MAX_SHOWN = 200
LABELS = {
    NEW: "New",
    MOVED: "Moved",
    STATUS: "Status",
    WEBCAST: "Webcast",
    REMOVED: "Removed",
    RESTORED: "Back",
}


@dataclass(frozen=True, slots=True)
class News:
    """One change as a changes feed shows it: the change, the item as it is now, and
    words for both."""

    change: Change
    entry: Entry
    meaning: Meaning
    title: str  # "Moved: Falcon 9 | Starlink 10-1 — now 22 Jul 2026 13:00 UTC"
    summary: str  # a sentence with the before and after

    @property
    def path(self) -> str:
        """The item's page, which the entry links to."""
        return page_path(self.entry.item)


@dataclass(frozen=True, slots=True)
class FeedLinks:
    """Where a changes feed and what it belongs to are reached (absolute URLs)."""

    base: str  # the service, no trailing slash
    atom: str  # this selection's /changes.atom
    json: str  # this selection's /changes.json
    home: str  # the builder with this selection
    calendar: str  # this selection's calendar


def selected_news(snapshot: Snapshot, query: FeedQuery, day: datetime) -> tuple[News, ...]:
    """The changes of the items `query` selects (the same items its calendar shows, at any
    distance from now), newest first, at most MAX_SHOWN, none older than KEPT_FOR before
    `day`. A change of an item no longer held (pruned after its removal) is not shown.
    Only the items of the log are judged, each once: the log is far shorter than the
    snapshot."""
    if not snapshot.changes:
        return ()
    matches = matcher(snapshot, query, day)
    judged: dict[str, Entry | None] = {}
    oldest = day - KEPT_FOR
    shown: list[News] = []
    for change in snapshot.changes:
        if change.seen <= oldest:
            break  # newest first: the rest are older still
        if change.key not in judged:
            entry = snapshot.entries.get(change.key)
            judged[change.key] = entry if entry is not None and matches(entry) else None
        found = judged[change.key]
        if found is not None:
            shown.append(news_of(change, found))
            if len(shown) == MAX_SHOWN:
                break
    return tuple(shown)


def one_item(snapshot: Snapshot, query: FeedQuery) -> Entry | None:
    """The item a query names by its one id (an item page's own changes feed), when held."""
    if len(query.ids) + len(query.launch_ids) != 1:
        return None
    if query.ids:
        return snapshot.entries.get(item_key(Event.kind, next(iter(query.ids))))
    return snapshot.entries.get(item_key(Launch.kind, next(iter(query.launch_ids))))


def news_of(change: Change, entry: Entry) -> News:
    """The words for one change of `entry`."""
    meaning = Meaning.of_entry(entry)
    name = meaning.name
    title, summary = _words(change, name)
    return News(change, entry, meaning, title, summary)


def _words(change: Change, name: str) -> tuple[str, str]:
    what = change.what
    if what == MOVED and change.was and change.now:
        was, now = _when(change.was), _when(change.now)
        return f"Moved: {name} — now {now}", f"{name} moved from {was} to {now}."
    if what == STATUS:
        before = f"from {change.before} " if change.before else ""
        return (
            f"{change.after}: {name}",
            f"{name}: status changed {before}to {change.after}.",
        )
    if what == WEBCAST:
        return f"Webcast: {name}", f"A webcast was added for {name}: {change.after}"
    if what == REMOVED:
        return (
            f"Removed: {name}",
            f"{name} was removed from Launch Library 2; calendars show it as cancelled.",
        )
    date = f", {_when(change.now)}" if change.now else ""
    if what == RESTORED:
        return f"Back: {name}", f"{name} is listed again on Launch Library 2{date}."
    return f"New: {name}", f"New on Launch Library 2: {name}{date}."


def _when(dated: Dated) -> str:
    return date_words(dated.start, dated.precision)
