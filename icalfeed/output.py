"""A query on a snapshot, rendered: the bytes of a feed (ICS or JSON) and its HTTP facts."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import ics
from .filters import FeedQuery, select
from .jsonfeed import render_json
from .snapshot import Entry, Snapshot
from .titles import calendar_meta


@dataclass(frozen=True, slots=True)
class Rendered:
    """A response body with what the HTTP layer needs to answer conditional requests."""

    body: bytes
    last_modified: datetime
    filename: str
    etag: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "etag", hashlib.sha256(self.body).hexdigest()[:32])


def render_feed(
    fmt: str, snapshot: Snapshot, query: FeedQuery, day: datetime, limit: int
) -> Rendered:
    """The body of one feed, with its Last-Modified and download name."""
    selection = select(snapshot, query, day, limit)
    meta = calendar_meta(query, snapshot.catalog, selection)
    if fmt == "json":
        body = render_json(selection, meta)
    else:
        body = ics.render(selection.entries, meta, query.alarms)
    return Rendered(body, last_modified(snapshot, selection.entries), meta.filename)


def last_modified(snapshot: Snapshot, entries: Sequence[Entry]) -> datetime:
    stamps = [e.event.last_updated or e.first_seen for e in entries]
    newest = max(stamps) if stamps else snapshot.saved_at
    return newest or datetime(2000, 1, 1, tzinfo=UTC)
