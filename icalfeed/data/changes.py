"""What changed, as this service saw it: one `Change` per news about an item (new, moved,
status, webcast added, removed upstream, back again), kept newest first in the snapshot so
every instance serving it (one data dir, or Redis) shows the same entries.

Pure: the snapshot's merge rules call `changes_between` with the old and new state of an
item and `kept` to bound the log; the feeds layer selects and words them.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..ll2.models import Item, Launch, Precision, parse_datetime

NEW = "new"
MOVED = "moved"
STATUS = "status"
WEBCAST = "webcast"
REMOVED = "removed"
RESTORED = "restored"
WHATS = (NEW, MOVED, STATUS, WEBCAST, REMOVED, RESTORED)
# The log keeps this long, and at most this many changes over every item.
KEPT_FOR = timedelta(days=30)
MAX_KEPT = 5_000
# An item first seen this long before its date is history being read, not news.
NEWS_MARGIN = timedelta(days=1)
# Entry ids are name-based UUIDs (RFC 9562 §5.5) in this namespace: stable for ever.
_NAMESPACE = uuid.UUID("7a1c0f9e-3b52-5d0c-9a41-6f2e8c1d4b73")


@dataclass(frozen=True, slots=True)
class Dated:
    """A date as well as LL2 knew it."""

    start: datetime
    precision: Precision


@dataclass(frozen=True, slots=True)
class Change:
    """One piece of news about one item: `what` happened, seen here at `seen`; a move has
    the dates before and after, a status change the status words, a webcast its link."""

    key: str  # the item's key ("launch:<uuid>", "event:1327")
    what: str  # one of WHATS
    seen: datetime
    was: Dated | None = None  # MOVED: the date before
    now: Dated | None = None  # MOVED and NEW: the date after
    before: str | None = None  # STATUS: the status before (None: none was given)
    after: str | None = None  # STATUS: the status after; WEBCAST: the link added

    @property
    def id(self) -> str:
        """Stable for ever, the same on every instance: a UUID named by what it says."""
        name = "|".join(
            [
                self.key,
                self.what,
                self.seen.isoformat(),
                self.was.start.isoformat() if self.was else "",
                self.now.start.isoformat() if self.now else "",
                self.before or "",
                self.after or "",
            ]
        )
        return f"urn:uuid:{uuid.uuid5(_NAMESPACE, name)}"

    def to_json(self) -> list[Any]:
        """A compact array (a full log is 5,000 of them in every save):
        ``[key, what, seen, was start, was precision, now start, now precision, before,
        after]``, null where absent."""
        was, now = self.was, self.now
        return [
            self.key,
            self.what,
            self.seen.isoformat(),
            was.start.isoformat() if was else None,
            was.precision.name if was else None,
            now.start.isoformat() if now else None,
            now.precision.name if now else None,
            self.before,
            self.after,
        ]

    @classmethod
    def from_json(cls, raw: Any) -> Change | None:
        """A change as the snapshot file holds it; None for one this release cannot read."""
        if not isinstance(raw, list) or len(raw) != 9:
            return None
        key, what, seen_text, was_at, was_precision, now_at, now_precision, before, after = raw
        seen = _moment(seen_text)
        if seen is None or what not in WHATS or not isinstance(key, str) or not key:
            return None
        return cls(
            key,
            what,
            seen,
            _dated(was_at, was_precision),
            _dated(now_at, now_precision),
            _text(before),
            _text(after),
        )


@functools.lru_cache(maxsize=2 * MAX_KEPT)
def change_text(change: Change) -> str:
    """`Change.to_json` as compact JSON, remembered: a save writes the whole log, which
    changes by a few entries at a time."""
    return json.dumps(change.to_json(), separators=(",", ":"), ensure_ascii=False)


def changes_between(
    old: Item | None, new: Item, now: datetime, *, removed: bool = False, news: bool = False
) -> list[Change]:
    """The news in `new` over `old` (its previous state here, None when first seen; `removed`:
    it was marked removed upstream). A first sighting is news only when `news` says this
    read may find new items (not a backfill of history) and the item is not in the past."""
    key = new.key
    if old is None:
        if news and new.start >= now - NEWS_MARGIN:
            return [Change(key, NEW, now, now=Dated(new.start, new.precision))]
        return []
    found: list[Change] = []
    if removed:
        found.append(Change(key, RESTORED, now, now=Dated(new.start, new.precision)))
    if (old.start, old.precision) != (new.start, new.precision):
        found.append(
            Change(
                key,
                MOVED,
                now,
                was=Dated(old.start, old.precision),
                now=Dated(new.start, new.precision),
            )
        )
    if isinstance(old, Launch) and isinstance(new, Launch):
        before, after = _status_name(old), _status_name(new)
        if after is not None and before != after:
            found.append(Change(key, STATUS, now, before=before, after=after))
    added = [v.url for v in new.videos if v.url not in {w.url for w in old.videos}]
    if added:
        found.append(Change(key, WEBCAST, now, after=added[0]))
    return found


def removal(item: Item, now: datetime) -> Change:
    """The news that `item` was removed upstream (calendars show it cancelled)."""
    return Change(item.key, REMOVED, now, now=Dated(item.start, item.precision))


def kept(changes: Iterable[Change], now: datetime) -> tuple[Change, ...]:
    """The log bounded: the newest first, none seen longer than KEPT_FOR ago, at most
    MAX_KEPT."""
    recent = [c for c in changes if c.seen > now - KEPT_FOR]
    recent.sort(key=lambda c: c.seen, reverse=True)  # stable: same moment keeps its order
    return tuple(recent[:MAX_KEPT])


def _status_name(launch: Launch) -> str | None:
    return launch.status.name if launch.status is not None else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _moment(raw: Any) -> datetime | None:
    """A moment as `to_json` writes it (fast), or any ISO 8601 form."""
    if isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            return None
        if value.tzinfo is UTC:
            return value
    return parse_datetime(raw)


def _dated(at: Any, precision: Any) -> Dated | None:
    start = _moment(at) if at is not None else None
    if start is None:
        return None
    return Dated(start, _PRECISIONS.get(precision, Precision.UNKNOWN))


_PRECISIONS: dict[Any, Precision] = dict(Precision.__members__)
