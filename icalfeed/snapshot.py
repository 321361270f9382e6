"""The immutable snapshot of what icalfeed knows, and the pure operations that derive new ones.

A `Snapshot` is never changed in place: merging a page of upstream events, marking events
that left the upcoming window, or pruning old removals each return a new snapshot, so readers
on other threads always see a complete, consistent one.  Its `version` is a digest of the
content that feeds depend on, so it changes exactly when a feed could change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from types import MappingProxyType
from typing import Any

from .catalog import Catalog
from .errors import SnapshotError
from .models import Event, parse_datetime

FORMAT = "icalfeed-snapshot/1"
# Removed events stay in feeds (as cancelled) this long, so calendars learn of the removal.
REMOVAL_GRACE = timedelta(days=7)
# An event this close to now may drop out of LL2's upcoming list by itself; not a removal.
REMOVAL_MARGIN = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class Entry:
    """One event with what icalfeed remembers about it across syncs."""

    event: Event
    record: Mapping[str, Any]  # the slimmed LL2 object, kept only to persist it
    sequence: int
    first_seen: datetime
    last_seen: datetime
    removed_at: datetime | None
    digest: str  # of record, sequence and removal: what a feed can show

    @classmethod
    def create(
        cls,
        event: Event,
        record: Mapping[str, Any],
        *,
        sequence: int,
        first_seen: datetime,
        last_seen: datetime,
        removed_at: datetime | None,
    ) -> Entry:
        # first_seen is content only for events without last_updated (it is their DTSTAMP).
        payload = json.dumps(
            [
                record,
                sequence,
                removed_at.isoformat() if removed_at else None,
                None if event.last_updated else first_seen.isoformat(),
            ],
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        digest = hashlib.sha256(payload.encode()).hexdigest()[:32]
        return cls(event, record, sequence, first_seen, last_seen, removed_at, digest)

    def changed(self, **updates: Any) -> Entry:
        """A copy with some fields replaced and the digest recomputed."""
        merged = {
            "sequence": self.sequence,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "removed_at": self.removed_at,
        }
        event = updates.pop("event", self.event)
        record = updates.pop("record", self.record)
        merged.update(updates)
        return Entry.create(event, record, **merged)


@dataclass(frozen=True, slots=True)
class SyncState:
    """Where syncing stands; persisted with the snapshot so a restart resumes."""

    watermark: str | None = None  # newest LL2 last_updated merged so far
    backfill_complete: bool = False
    changes_at: datetime | None = None  # last finished pass over changed events
    reconciled_at: datetime | None = None  # last complete read of the upcoming window
    succeeded_at: datetime | None = None  # last sync that got at least one good page


@dataclass(frozen=True, slots=True)
class MergeCounts:
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0

    def __add__(self, other: MergeCounts) -> MergeCounts:
        return MergeCounts(
            self.added + other.added,
            self.changed + other.changed,
            self.removed + other.removed,
            self.unchanged + other.unchanged,
        )


@dataclass(frozen=True)
class Snapshot:
    """Every event known, by id, with the sync state; `source` says where it came from."""

    entries: Mapping[int, Entry]
    sync: SyncState = SyncState()
    source: str = "empty"  # "snapshot" (synced), "sample" (packaged) or "empty"
    saved_at: datetime | None = None
    # Events whose agencies/programs/types stay resolvable by name even when no event here
    # names them (the packaged sample, during a first backfill): not content, not versioned.
    name_sources: tuple[Event, ...] = field(default=(), compare=False, repr=False)
    version: str = field(init=False)

    def __post_init__(self) -> None:
        frozen = MappingProxyType(dict(self.entries))
        object.__setattr__(self, "entries", frozen)
        digest = hashlib.sha256()
        for event_id in sorted(frozen):
            digest.update(f"{event_id}:{frozen[event_id].digest};".encode())
        object.__setattr__(self, "version", digest.hexdigest()[:20])

    @cached_property
    def events(self) -> tuple[Event, ...]:
        """Every event, removed ones included, in start order."""
        return tuple(e.event for e in self.ordered_entries)

    @cached_property
    def catalog(self) -> Catalog:
        """The agencies, programs and types these events name."""
        return Catalog.build(self.events, also=self.name_sources)

    @cached_property
    def ordered_entries(self) -> tuple[Entry, ...]:
        return tuple(sorted(self.entries.values(), key=lambda e: (e.event.start, e.event.id)))

    def merge(
        self, pairs: Iterable[tuple[Event, Mapping[str, Any]]], now: datetime
    ) -> tuple[Snapshot, MergeCounts]:
        """Upsert events by id; an older copy of an event never overwrites a newer one."""
        entries = dict(self.entries)
        added = changed = unchanged = 0
        for event, record in pairs:
            old = entries.get(event.id)
            if old is None:
                entries[event.id] = Entry.create(
                    event, record, sequence=0, first_seen=now, last_seen=now, removed_at=None
                )
                added += 1
                continue
            if _is_older(event, old.event):
                # A stale copy (pages overlap, or a replica lags): proof of life, not news.
                event, record = old.event, old.record
            moved = event.timing != old.event.timing or old.removed_at is not None
            updated = old.changed(
                event=event,
                record=record,
                sequence=old.sequence + 1 if moved else old.sequence,
                last_seen=now,
                removed_at=None,
            )
            entries[event.id] = updated
            if updated.digest == old.digest:
                unchanged += 1
            else:
                changed += 1
        return replace(self, entries=entries), MergeCounts(added, changed, 0, unchanged)

    def mark_missing(self, seen: set[int], now: datetime) -> tuple[Snapshot, MergeCounts]:
        """After a complete read of the upcoming window: events that should be in it but are
        not were removed upstream.  They stay (cancelled) until `prune` drops them."""
        entries = dict(self.entries)
        removed = 0
        for event_id, entry in self.entries.items():
            if (
                event_id not in seen
                and entry.removed_at is None
                and entry.event.start > now + REMOVAL_MARGIN
            ):
                entries[event_id] = entry.changed(removed_at=now, sequence=entry.sequence + 1)
                removed += 1
        return replace(self, entries=entries), MergeCounts(removed=removed)

    def prune(self, now: datetime) -> Snapshot:
        """Drop events removed upstream longer ago than the grace period."""
        kept = {
            k: e
            for k, e in self.entries.items()
            if e.removed_at is None or e.removed_at > now - REMOVAL_GRACE
        }
        return self if len(kept) == len(self.entries) else replace(self, entries=kept)

    def with_sync(self, **changes: Any) -> Snapshot:
        return replace(self, sync=replace(self.sync, **changes))

    def to_json(self) -> dict[str, Any]:
        """The on-disk form (see `from_json`)."""
        return {
            "format": FORMAT,
            "source": self.source,
            "saved_at": _iso(self.saved_at),
            "version": self.version,
            "sync": {
                "watermark": self.sync.watermark,
                "backfill_complete": self.sync.backfill_complete,
                "changes_at": _iso(self.sync.changes_at),
                "reconciled_at": _iso(self.sync.reconciled_at),
                "succeeded_at": _iso(self.sync.succeeded_at),
            },
            "entries": [
                {
                    "ll2": e.record,
                    "sequence": e.sequence,
                    "first_seen": _iso(e.first_seen),
                    "last_seen": _iso(e.last_seen),
                    "removed_at": _iso(e.removed_at),
                }
                for e in self.ordered_entries
            ],
        }

    @classmethod
    def from_json(cls, data: Any, source: str) -> Snapshot:
        """Rebuild from `to_json` output; raise SnapshotError if it is not one."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise SnapshotError("not an icalfeed snapshot (format marker missing)")
        try:
            sync_raw = data.get("sync") or {}
            sync = SyncState(
                watermark=sync_raw.get("watermark"),
                backfill_complete=bool(sync_raw.get("backfill_complete")),
                changes_at=parse_datetime(sync_raw.get("changes_at")),
                reconciled_at=parse_datetime(sync_raw.get("reconciled_at")),
                succeeded_at=parse_datetime(sync_raw.get("succeeded_at")),
            )
            entries: dict[int, Entry] = {}
            for item in data["entries"]:
                event = Event.from_ll2(item["ll2"])
                seen = parse_datetime(item.get("last_seen")) or event.start
                entries[event.id] = Entry.create(
                    event,
                    item["ll2"],
                    sequence=int(item.get("sequence") or 0),
                    first_seen=parse_datetime(item.get("first_seen")) or seen,
                    last_seen=seen,
                    removed_at=parse_datetime(item.get("removed_at")),
                )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SnapshotError(f"snapshot content is damaged ({exc!r})") from None
        return cls(entries, sync, source, parse_datetime(data.get("saved_at")))


def _is_older(new: Event, old: Event) -> bool:
    return bool(new.last_updated and old.last_updated and new.last_updated < old.last_updated)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
