"""What changed, as this service saw it: one `Change` per news about an item (new, moved,
status, webcast added, removed upstream, back again), kept newest first in the snapshot so
every instance serving it (one data dir, or Redis) shows the same entries.

Pure: the snapshot's merge rules call `changes_between` with the old and new state of an
item and `kept` to bound the log; the feeds layer selects and words them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
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

    def to_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "precision": self.precision.name}

    @classmethod
    def from_json(cls, raw: Any) -> Dated | None:
        if not isinstance(raw, Mapping):
            return None
        start = parse_datetime(raw.get("start"))
        name = str(raw.get("precision") or "")
        precision = Precision[name] if name in Precision.__members__ else Precision.UNKNOWN
        return cls(start, precision) if start is not None else None


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

    def to_json(self) -> dict[str, Any]:
        raw: dict[str, Any] = {"key": self.key, "what": self.what, "seen": self.seen.isoformat()}
        if self.was:
            raw["was"] = self.was.to_json()
        if self.now:
            raw["now"] = self.now.to_json()
        if self.before is not None:
            raw["before"] = self.before
        if self.after is not None:
            raw["after"] = self.after
        return raw

    @classmethod
    def from_json(cls, raw: Any) -> Change | None:
        """A change as the snapshot file holds it; None for one this release cannot read."""
        if not isinstance(raw, Mapping):
            return None
        seen, what, key = parse_datetime(raw.get("seen")), raw.get("what"), raw.get("key")
        if seen is None or what not in WHATS or not isinstance(key, str) or not key:
            return None
        return cls(
            key,
            str(what),
            seen,
            Dated.from_json(raw.get("was")),
            Dated.from_json(raw.get("now")),
            _text(raw.get("before")),
            _text(raw.get("after")),
        )


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
