"""A query on a snapshot, rendered: the bytes of a feed (ICS or JSON) and its HTTP facts."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from ..data.snapshot import Entry, Snapshot
from . import ics
from .asof import sample_note, sample_times
from .jsonfeed import render_json
from .query import FeedQuery
from .select import select, unmatched_names
from .titles import calendar_meta


@dataclass(frozen=True, slots=True)
class Rendered:
    """A response body with what the HTTP layer needs: a strong ETag, and the body gzipped
    once (mtime 0, so those bytes are stable too) the first time a client accepts it — a
    one-off query from a script that does not never pays for it."""

    body: bytes
    changed_at: datetime  # of the data behind it; Last-Modified is decided per query (views)
    filename: str  # ASCII, for Content-Disposition's filename=
    title: str = ""  # the calendar's name, for its readable filename*=
    etag: str = field(init=False)
    _gzipped: list[bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "etag", hashlib.sha256(self.body).hexdigest()[:32])
        object.__setattr__(self, "_gzipped", [])

    @property
    def gzipped(self) -> bytes:
        if not self._gzipped:  # two threads may both compress: the same bytes either way
            self._gzipped.append(gzip.compress(self.body, 6, mtime=0))
        return self._gzipped[0]


def render_feed(
    fmt: str,
    snapshot: Snapshot,
    query: FeedQuery,
    day: datetime,
    limit: int,
    pieces: Callable[[Entry, tuple[int, ...]], bytes] | None = None,
    fragments: Callable[[Entry], bytes] | None = None,
) -> Rendered:
    """The body of one feed, with when its data changed and its download name; `pieces`
    may supply each item's VEVENT bytes from a cache, `fragments` its JSON."""
    selection = select(snapshot, query, day, limit)
    meta = calendar_meta(query, snapshot.catalog, selection)
    note = sample_note(snapshot, query.include)
    if note:  # the packaged sample: shown as of its capture time, and says so (calendars
        # drop a description's ";", so not that one)
        meta = replace(meta, description=f"{meta.description} {note.replace('; ', ': ')}")
    if fmt == "json":
        notes = unmatched_names(query, snapshot.catalog)
        as_of = sample_times(snapshot, query.include)
        body = render_json(selection, meta, query.include, notes, fragments, as_of)
    else:
        body = ics.render(selection.entries, meta, query.alarms, pieces)
    changed = data_changed_at(snapshot, selection.entries, day)
    return Rendered(body, changed, meta.filename, meta.name)


def data_changed_at(snapshot: Snapshot, entries: Sequence[Entry], day: datetime) -> datetime:
    """The latest moment the bytes of a feed on this snapshot can have changed: when this
    service last committed different data (not LL2's stamps of the items shown, which miss
    items leaving a selection, removals undone and prunes), or the start of `day` (the
    default window moves at midnight). The packaged sample is never committed: the newest
    stamp or removal in it stands in."""
    if snapshot.changed_at is not None:
        return max(snapshot.changed_at, day)
    stamps = [day]
    for entry in entries:
        stamps.append(entry.item.last_updated or entry.first_seen)
        if entry.removed_at:
            stamps.append(entry.removed_at)
    return max(stamps)
