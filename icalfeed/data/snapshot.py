"""The immutable snapshot of what icalfeed knows, and the pure operations that derive new ones.

It holds items of two kinds, LL2 events and LL2 launches, in one mapping keyed by
`Item.key` (``event:1327``, ``launch:<uuid>``), and for each kind a `SyncState`: one code
path stores, syncs and serves both.  A `Snapshot` is never changed in place: merging a page of
upstream items, marking items that left the upcoming window, or pruning old removals each
return a new snapshot, so readers on other threads always see a complete, consistent one.
Its `version` is a digest of the content that feeds depend on, so it changes exactly when a
feed could change.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from types import MappingProxyType
from typing import Any

from ..base.errors import SnapshotError
from ..ll2.models import PLURAL, Event, Item, Launch, Precision, parse_datetime, parse_record
from .catalog import Catalog
from .changes import KEPT_FOR, MAX_KEPT, Change, change_text, changes_between, kept, removal
from .syncstate import NEVER, SyncState, state_from, state_json

FORMAT = "icalfeed-snapshot/2"
# Version 1 held events only; it is read as a version 2 without launches.
OLD_FORMATS = ("icalfeed-snapshot/1",)
KINDS = (Event.kind, Launch.kind)
# Removed items stay in feeds (as cancelled) this long, so calendars learn of the removal.
REMOVAL_GRACE = timedelta(days=7)
# An item this close to now may drop out of LL2's upcoming list by itself; not a removal.
REMOVAL_MARGIN = timedelta(hours=6)
# Pruned items whose last SEQUENCE is remembered (about 60 bytes each on disk).
MAX_RETIRED = 20_000
MAX_MOVES = 10  # previous dates kept per item, newest first


@dataclass(frozen=True, slots=True)
class Move:
    """A date an item had before it moved, and when the move was seen here."""

    start: datetime
    precision: Precision
    until: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "start": _iso(self.start),
            "precision": self.precision.name,
            "until": _iso(self.until),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Move:
        start, until = parse_datetime(raw.get("start")), parse_datetime(raw.get("until"))
        if start is None or until is None:
            raise ValueError(f"a move without its dates: {raw!r}")
        name = str(raw.get("precision") or "")
        precision = Precision[name] if name in Precision.__members__ else Precision.UNKNOWN
        return cls(start, precision, until)


@dataclass(frozen=True, slots=True)
class Entry:
    """One item (event or launch) with what icalfeed remembers about it across syncs."""

    item: Item
    # This entry as the snapshot file holds it (JSON), the slimmed LL2 object included as
    # compact text up to `record_end`: a quarter of the memory of the decoded object, and a
    # save joins these texts instead of encoding 10,000 objects again.
    stored: str
    record_end: int
    sequence: int
    first_seen: datetime
    last_seen: datetime
    removed_at: datetime | None
    digest: str  # of record, sequence, removal and moves: what a feed can show
    moves: tuple[Move, ...] = ()  # its earlier dates, newest first (at most MAX_MOVES)

    @classmethod
    def create(
        cls,
        item: Item,
        record: Mapping[str, Any] | str,
        *,
        sequence: int,
        first_seen: datetime,
        last_seen: datetime,
        removed_at: datetime | None,
        moves: tuple[Move, ...] = (),
    ) -> Entry:
        """`record` is the slimmed LL2 object, or its `record_json` already."""
        text = record if isinstance(record, str) else _compact(record)
        moved_from = [m.to_json() for m in moves]
        # The same text as json.dumps of [record, sequence, removed, first_seen, moves]:
        # first_seen is content only for items without last_updated (it is their DTSTAMP).
        tail = [
            sequence,
            removed_at.isoformat() if removed_at else None,
            None if item.last_updated else first_seen.isoformat(),
            *([moved_from] if moves else []),
        ]
        payload = f"[{text},{_compact(tail)[1:]}"
        digest = hashlib.sha256(payload.encode()).hexdigest()[:32]
        head = _stored_head(item.kind)
        moved = f',"moves":{_compact(moved_from)}' if moves else ""
        stored = (
            f'{head}{text},"sequence":{sequence},"first_seen":{_json_iso(first_seen)},'
            f'"last_seen":{_json_iso(last_seen)},"removed_at":{_json_iso(removed_at)}{moved}}}'
        )
        end = len(head) + len(text)
        return cls(item, stored, end, sequence, first_seen, last_seen, removed_at, digest, moves)

    @property
    def record_json(self) -> str:
        """The slimmed LL2 object as compact JSON."""
        return self.stored[len(_stored_head(self.kind)) : self.record_end]

    @property
    def record(self) -> dict[str, Any]:
        """The slimmed LL2 object, decoded."""
        result: dict[str, Any] = json.loads(self.record_json)
        return result

    def changed(self, **updates: Any) -> Entry:
        """A copy with some fields replaced and the digest recomputed."""
        merged: dict[str, Any] = {
            "sequence": self.sequence,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "removed_at": self.removed_at,
            "moves": self.moves,
        }
        item = updates.pop("item", self.item)
        record = updates.pop("record", self.record_json)
        merged.update(updates)
        return Entry.create(item, record, **merged)

    @property
    def kind(self) -> str:
        return self.item.kind


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
    """Every item known, by key, with the sync state of each kind; `source` says where it
    came from."""

    entries: Mapping[str, Entry]
    streams: Mapping[str, SyncState] = field(default_factory=dict)
    source: str = "empty"  # "snapshot" (synced), "sample" (packaged) or "empty"
    saved_at: datetime | None = None
    # Events whose agencies/programs/types stay resolvable by name even when no event here
    # names them (the packaged sample, during a first backfill): not content, not versioned.
    name_sources: tuple[Item, ...] = field(default=(), compare=False, repr=False)
    # The last SEQUENCE of items pruned after their removal, so one that comes back goes on
    # counting from there (SEQUENCE never decreases for a UID); the newest MAX_RETIRED.
    retired: Mapping[str, int] = field(default_factory=dict)
    # When this service last committed a different `version`: what Last-Modified builds on.
    changed_at: datetime | None = None
    # The packaged sample only: when each kind was captured ("now" for it, `feeds.asof`).
    as_of: Mapping[str, datetime] = field(default_factory=dict)
    # What changed lately, newest first (`changes`): the changes feeds read it.
    changes: tuple[Change, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", MappingProxyType(dict(self.entries)))
        object.__setattr__(self, "streams", MappingProxyType(dict(self.streams)))
        object.__setattr__(self, "retired", MappingProxyType(dict(self.retired)))

    @cached_property
    def version(self) -> str:
        """A digest of the content feeds depend on (computed when first asked: a sync
        derives several snapshots per page and only the one it commits needs it)."""
        digest = hashlib.sha256()
        for key in sorted(self.entries):
            digest.update(f"{key}:{self.entries[key].digest};".encode())
        for kind, at in sorted(self.as_of.items()):  # the sample's feeds are shown as of it
            digest.update(f"as_of {kind}:{at.isoformat()};".encode())
        if self.changes:  # news comes with a change of an entry; the log's length and head
            # also cover it aging out
            digest.update(f"changes {len(self.changes)}:{self.changes[0].id};".encode())
        return digest.hexdigest()[:20]

    def sync(self, kind: str = Event.kind) -> SyncState:
        """Where syncing `kind` stands."""
        return self.streams.get(kind, NEVER)

    def failing_now(self) -> list[str]:
        """Each pass failing now, in the words of the sync's own report:
        "http-500: … [launches reconcile]"."""
        return [
            f"{health.error} [{PLURAL[kind]} {name}]"
            for kind, state in sorted(self.streams.items())
            for name, health in sorted(state.failing.items())
        ]

    @cached_property
    def events(self) -> tuple[Event, ...]:
        """Every event, removed ones included, in start order."""
        return tuple(e.item for e in self.ordered_entries if isinstance(e.item, Event))

    @cached_property
    def launches(self) -> tuple[Launch, ...]:
        """Every launch, removed ones included, in NET order."""
        return tuple(e.item for e in self.ordered_entries if isinstance(e.item, Launch))

    def count(self, kind: str) -> int:
        return sum(1 for e in self.entries.values() if e.kind == kind)

    @cached_property
    def catalog(self) -> Catalog:
        """The agencies, programs, types and launch names these items name."""
        return Catalog.build(self.events + self.launches, also=self.name_sources)

    @cached_property
    def ordered_entries(self) -> tuple[Entry, ...]:
        return tuple(sorted(self.entries.values(), key=lambda e: (e.item.start, e.item.key)))

    def merge(
        self,
        pairs: Iterable[tuple[Item, Mapping[str, Any] | str]],
        now: datetime,
        *,
        news: bool = False,
    ) -> tuple[Snapshot, MergeCounts]:
        """Upsert items by key; an older copy of an item never overwrites a newer one. What
        changed goes into the log (`changes`); an item first seen is news only when `news`
        says this read can find new items (not a backfill) and this kind was read in full
        before (its first reconcile and backfill are done)."""
        entries = dict(self.entries)
        retired = dict(self.retired)
        found: list[Change] = []
        added = changed = unchanged = 0
        for item, record in pairs:
            old = entries.get(item.key)
            if old is None:
                found += changes_between(None, item, now, news=news and self._read_fully(item))
                # Back after its removal was pruned: a calendar may still hold the old one.
                returned = retired.pop(item.key, None)
                sequence = 0 if returned is None else returned + 1
                entries[item.key] = Entry.create(
                    item, record, sequence=sequence, first_seen=now, last_seen=now, removed_at=None
                )
                added += 1
                continue
            if _is_older(item, old.item):
                # A stale copy (pages overlap, or a replica lags): proof of life, not news.
                item, record = old.item, old.record_json
            found += changes_between(old.item, item, now, removed=old.removed_at is not None)
            moved = item.timing != old.item.timing or old.removed_at is not None
            moves = old.moves
            if (item.start, item.precision) != (old.item.start, old.item.precision):
                moves = (Move(old.item.start, old.item.precision, now), *moves)[:MAX_MOVES]
            updated = old.changed(
                item=item,
                record=record,
                sequence=old.sequence + 1 if moved else old.sequence,
                last_seen=now,
                removed_at=None,
                moves=moves,
            )
            entries[item.key] = updated
            if updated.digest == old.digest:
                unchanged += 1
            else:
                changed += 1
        merged = replace(self, entries=entries, retired=retired, changes=self._logged(found, now))
        return merged, MergeCounts(added, changed, 0, unchanged)

    def _read_fully(self, item: Item) -> bool:
        state = self.sync(item.kind)
        return state.reconciled_at is not None and state.backfill_complete

    def _logged(self, found: list[Change], now: datetime) -> tuple[Change, ...]:
        """The log with `found` added (newest first) and bounded; the same tuple when
        nothing was found and nothing aged out."""
        if not found and (not self.changes or self.changes[-1].seen > now - KEPT_FOR):
            return self.changes
        return kept([*found, *self.changes], now)

    def missing(
        self, kind: str, seen: set[str], now: datetime, until: datetime | None = None
    ) -> list[str]:
        """Keys of `kind` that a complete read of the upcoming window (up to `until`, when
        the read was bounded) should have listed but did not, soonest first."""
        gone = [
            entry
            for key, entry in self.entries.items()
            if entry.kind == kind
            and key not in seen
            and entry.removed_at is None
            and entry.item.start > now + REMOVAL_MARGIN
            and (until is None or entry.item.start <= until)
        ]
        return [e.item.key for e in sorted(gone, key=lambda e: (e.item.start, e.item.key))]

    def mark_removed(self, keys: Iterable[str], now: datetime) -> tuple[Snapshot, MergeCounts]:
        """These items were removed upstream: they stay (cancelled) until `prune` drops them."""
        entries = dict(self.entries)
        found: list[Change] = []
        removed = 0
        for key in keys:
            entry = entries.get(key)
            if entry is not None and entry.removed_at is None:
                entries[key] = entry.changed(removed_at=now, sequence=entry.sequence + 1)
                found.append(removal(entry.item, now))
                removed += 1
        changes = self._logged(found, now)
        return replace(self, entries=entries, changes=changes), MergeCounts(removed=removed)

    def prune(self, now: datetime) -> Snapshot:
        """Drop items removed upstream longer ago than the grace period."""
        kept = {
            k: e
            for k, e in self.entries.items()
            if e.removed_at is None or e.removed_at > now - REMOVAL_GRACE
        }
        if len(kept) == len(self.entries):
            return self
        retired = dict(self.retired)
        for key, entry in self.entries.items():
            if key not in kept:
                retired.pop(key, None)
                retired[key] = entry.sequence  # newest last
        retired = dict(list(retired.items())[-MAX_RETIRED:])
        return replace(self, entries=kept, retired=retired)

    def with_sync(self, kind: str = Event.kind, **changes: Any) -> Snapshot:
        streams = dict(self.streams)
        streams[kind] = replace(self.sync(kind), **changes)
        return self.restamped(streams=streams)

    def restamped(self, **changes: Any) -> Snapshot:
        """`replace` for changes that keep the entries: what is derived from the entries
        alone (the version, the order) is kept rather than worked out again."""
        new = replace(self, **changes)
        if not {"entries", "as_of", "changes"} & changes.keys():
            for name in ("version", "ordered_entries"):
                if name in self.__dict__:
                    new.__dict__[name] = self.__dict__[name]
        return new

    def to_text(self) -> str:
        """The on-disk form, JSON (see `from_json`): put together from each entry's stored
        text, so writing 10,000 items does not encode them again."""
        head = _compact(
            {
                "format": FORMAT,
                "source": self.source,
                "saved_at": _iso(self.saved_at),
                "changed_at": _iso(self.changed_at),
                "version": self.version,
                "streams": {kind: state_json(state) for kind, state in self.streams.items()},
            }
        )
        entries = ",".join(e.stored for e in self.ordered_entries)
        retired = json.dumps(dict(self.retired), separators=(",", ":"), ensure_ascii=False)
        changes = ",".join(change_text(change) for change in self.changes)
        return f'{head[:-1]},"entries":[{entries}],"retired":{retired},"changes":[{changes}]}}'

    def to_json(self) -> dict[str, Any]:
        """The on-disk form, decoded."""
        data: dict[str, Any] = json.loads(self.to_text())
        return data

    @classmethod
    def from_text(cls, text: str, source: str) -> Snapshot:
        """Rebuild from `to_text` output (see `from_json`); ValueError when it is not JSON.
        Each entry's record keeps its text from the file when that is exactly what this
        service writes (a save, then a load, then a save gives the same bytes), instead of
        being encoded again."""
        data = json.loads(text)
        entries = data.get("entries") if isinstance(data, Mapping) else None
        texts = _entry_texts(text, len(entries)) if isinstance(entries, list) else None
        return cls.from_json(data, source, texts)

    @classmethod
    def from_json(cls, data: Any, source: str, texts: Sequence[str] | None = None) -> Snapshot:
        """Rebuild from `to_json` output (or a version 1 snapshot); SnapshotError if it is
        not one. `texts`, when given, are the entries as the file spells them."""
        if not isinstance(data, Mapping) or data.get("format") not in (FORMAT, *OLD_FORMATS):
            raise SnapshotError("not an icalfeed snapshot (format marker missing)")
        try:
            if data["format"] in OLD_FORMATS:
                streams = {Event.kind: state_from(Event.kind, data.get("sync") or {})}
            else:
                streams = {
                    str(kind): state_from(str(kind), raw)
                    for kind, raw in (data.get("streams") or {}).items()
                }
            entries: dict[str, Entry] = {}
            for number, entry in enumerate(data["entries"]):
                kind = entry.get("kind", Event.kind)
                if kind not in KINDS:
                    raise ValueError(f"unknown kind {kind!r}")
                item = parse_record(kind, entry["ll2"])
                seen = parse_datetime(entry.get("last_seen")) or item.start
                make = functools.partial(
                    Entry.create,
                    item,
                    sequence=int(entry.get("sequence") or 0),
                    first_seen=parse_datetime(entry.get("first_seen")) or seen,
                    last_seen=seen,
                    removed_at=parse_datetime(entry.get("removed_at")),
                    moves=tuple(
                        Move.from_json(m)
                        for m in entry.get("moves") or ()
                        if isinstance(m, Mapping)
                    )[:MAX_MOVES],
                )
                spelt = texts[number] if texts else ""
                record = _record_text(spelt, kind)
                made = make(record) if record else None
                if made is None or made.stored != spelt:  # written otherwise: encode it
                    made = make(entry["ll2"])
                entries[item.key] = made
            retired = {str(k): int(v) for k, v in (data.get("retired") or {}).items()}
            logged = (Change.from_json(raw) for raw in data.get("changes") or ())
            changes = tuple(change for change in logged if change is not None)[:MAX_KEPT]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SnapshotError(f"snapshot content is damaged ({exc!r})") from None
        saved_at = parse_datetime(data.get("saved_at"))
        # Written before `changed_at`: the last save is the latest the data can have changed.
        changed_at = parse_datetime(data.get("changed_at")) or saved_at
        found = data.get("as_of") if source == "sample" else None  # never shift live data
        as_of = {str(k): parse_datetime(v) for k, v in (found or {}).items() if k in KINDS}
        return cls(
            entries,
            streams,
            source,
            saved_at,
            retired=retired,
            changed_at=changed_at,
            as_of={k: v for k, v in as_of.items() if v is not None},
            changes=changes,
        )


def _is_older(new: Item, old: Item) -> bool:
    return bool(new.last_updated and old.last_updated and new.last_updated < old.last_updated)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _entry_texts(text: str, count: int) -> list[str] | None:
    """The `count` entries of a snapshot file as `to_text` wrote them (joined by commas, each
    starting with its kind); None when the file is not laid out that way. A wrong split is
    caught later: an entry's text must be exactly what `Entry.create` makes of it."""
    start, end = text.find(ENTRIES_OPEN), text.rfind(ENTRIES_CLOSE)
    if count == 0 or start < 0 or end < start:
        return None
    # From the first entry's "{" to the last one's "}".
    parts = text[start + len(ENTRIES_OPEN) - len(ENTRY_OPEN) : end + 1].split(ENTRY_SEAM)
    if len(parts) != count:
        return None
    last = count - 1
    return [
        f"{ENTRY_OPEN if n else ''}{part}{'}' if n < last else ''}" for n, part in enumerate(parts)
    ]


ENTRY_OPEN = '{"kind":"'
ENTRIES_OPEN = ',"entries":[' + ENTRY_OPEN
ENTRIES_CLOSE = '}],"retired":'
ENTRY_SEAM = "}," + ENTRY_OPEN


def _record_text(stored: str, kind: str) -> str:
    """The record's compact JSON inside an entry's stored text (it ends where the entry's own
    fields begin, which no record or move repeats unescaped); empty if it is not there."""
    head = _stored_head(kind)
    end = stored.rfind(',"sequence":')
    return stored[len(head) : end] if stored.startswith(head) and end > len(head) else ""


def _stored_head(kind: str) -> str:
    return f'{{"kind":"{kind}","ll2":'


def _json_iso(value: datetime | None) -> str:
    return f'"{value.isoformat()}"' if value else "null"


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
