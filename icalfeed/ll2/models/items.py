"""Events and launches together: the `Item` union, and pages of LL2 objects parsed into
items (a malformed object skipped and counted, never fatal)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .events import Event, slim_record
from .fields import as_int, as_line, item_key, parse_datetime, scrub
from .launches import Launch, slim_launch_record

Item = Event | Launch
PLURAL = {Event.kind: "events", Launch.kind: "launches"}


@dataclass(frozen=True, slots=True)
class ParsedPage:
    """The items (events or launches) of one LL2 response that parsed, with the slimmed
    raw objects we keep."""

    items: tuple[tuple[Item, Mapping[str, Any]], ...]
    skipped: int
    # Keys of objects that were there but could not be used: LL2 still lists them, so
    # they must not count as removed.
    unparsed_keys: frozenset[str] = frozenset()
    # `last_updated` of every object on the page, usable or not: where paging stands.
    stamps: tuple[datetime, ...] = ()


def parse_events(items: Iterable[Any]) -> ParsedPage:
    """Parse a list of LL2 event objects; a malformed one is skipped and counted."""
    return _parse_page(items, Event, slim_record, lambda raw: as_int(raw.get("id")))


def parse_launches(items: Iterable[Any]) -> ParsedPage:
    """Parse a list of LL2 launch objects; a malformed one is skipped and counted."""
    return _parse_page(items, Launch, slim_launch_record, _launch_id)


def parse_record(kind: str, record: Mapping[str, Any]) -> Item:
    """Rebuild an item from the record a snapshot kept for it."""
    return Launch.from_ll2(record) if kind == Launch.kind else Event.from_ll2(record)


def _parse_page(
    items: Iterable[Any],
    build: type[Event] | type[Launch],
    slim: Callable[[Mapping[str, Any]], dict[str, Any]],
    raw_id: Callable[[Mapping[str, Any]], object],
) -> ParsedPage:
    parsed: list[tuple[Item, Mapping[str, Any]]] = []
    unparsed: set[str] = set()
    stamps: list[datetime] = []
    skipped = 0
    for item in items:
        stamp = parse_datetime(item.get("last_updated")) if isinstance(item, Mapping) else None
        if stamp is not None:
            stamps.append(stamp)
        try:
            # Slimmed first: the record keeps everything an item is built from (a snapshot
            # rebuilds items from it), and scrubbing 20 KB of detailed launch would not pay.
            if not isinstance(item, Mapping):
                raise TypeError(f"not an object: {type(item).__name__}")
            clean = scrub(slim(item))
            built = build.from_ll2(clean)
            parsed.append((built, clean))
        except (ValueError, TypeError, AttributeError, KeyError, ArithmeticError):
            skipped += 1
            item_id = raw_id(item) if isinstance(item, Mapping) else None
            if item_id is not None and item_id != "":
                unparsed.add(item_key(build.kind, item_id))
    return ParsedPage(tuple(parsed), skipped, frozenset(unparsed), tuple(stamps))


def _launch_id(raw: Mapping[str, Any]) -> str | None:
    value = raw.get("id")
    return as_line(value).lower() or None if isinstance(value, str) else None
