"""A query on a snapshot, rendered: the bytes of a feed (ICS or JSON) and its HTTP facts."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from . import ics
from .filters import FeedQuery, select, unmatched_names
from .jsonfeed import render_json
from .snapshot import Entry, Snapshot
from .titles import calendar_meta


@dataclass(frozen=True, slots=True)
class Rendered:
    """A response body with what the HTTP layer needs: a strong ETag, and the body gzipped
    once here rather than per request (mtime 0, so those bytes are stable too)."""

    body: bytes
    last_modified: datetime
    filename: str  # ASCII, for Content-Disposition's filename=
    title: str = ""  # the calendar's name, for its readable filename*=
    etag: str = field(init=False)
    gzipped: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "etag", hashlib.sha256(self.body).hexdigest()[:32])
        object.__setattr__(self, "gzipped", gzip.compress(self.body, 6, mtime=0))


def render_feed(
    fmt: str,
    snapshot: Snapshot,
    query: FeedQuery,
    day: datetime,
    limit: int,
    pieces: Callable[[Entry, tuple[int, ...]], bytes] | None = None,
) -> Rendered:
    """The body of one feed, with its Last-Modified and download name; `pieces` may supply
    each event's VEVENT bytes from a cache."""
    selection = select(snapshot, query, day, limit)
    meta = calendar_meta(query, snapshot.catalog, selection)
    if fmt == "json":
        notes = unmatched_names(query, snapshot.catalog)
        body = render_json(selection, meta, query.include, notes)
    else:
        body = ics.render(selection.entries, meta, query.alarms, pieces)
    return Rendered(body, last_modified(selection.entries, day), meta.filename, meta.name)


def last_modified(entries: Sequence[Entry], day: datetime) -> datetime:
    """The newest change a client of this feed could have missed.

    Removals count, and so does the day: the default window moves at midnight, and a client
    that only sends If-Modified-Since must not be told "304" about a body that moved with it.
    """
    stamps = [day]
    for entry in entries:
        stamps.append(entry.item.last_updated or entry.first_seen)
        if entry.removed_at:
            stamps.append(entry.removed_at)
    return max(stamps)
