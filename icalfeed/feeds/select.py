"""Feed selection: which items of a snapshot a `FeedQuery` matches, and in what order.

Pure: no Flask, no I/O, and `now` is always an argument.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..data.catalog import Catalog
from ..data.snapshot import Entry, Snapshot
from ..ll2.models import Event, Item, Launch, slugify, word_slug
from .asof import KINDS, moment
from .query import EVERYTHING, LAUNCH_STATUSES, STATUS_WORDS, FeedQuery, fold


def _any_id(wanted: frozenset[Any], items: Iterable[Any]) -> bool:
    return any(item.id in wanted for item in items)


def _types(item: Item) -> tuple[Any, ...]:
    return (item.type,) if isinstance(item, Event) and item.type else ()


def _of_event(item: Item, pick: Callable[[Event], Iterable[Any]]) -> Iterable[Any]:
    return pick(item) if isinstance(item, Event) else ()


def _rocket_words(item: Item) -> set[str]:
    """Every spelling a launch's rocket answers to: id, name, family, full name."""
    if not isinstance(item, Launch):
        return set()
    words = {word_slug(n) for n in (item.rocket, item.rocket_family, item.rocket_full_name) if n}
    if item.rocket_id is not None:
        words.add(str(item.rocket_id))
    return words


def unmatched_names(query: FeedQuery, catalog: Catalog) -> list[str]:
    """One line per rocket, orbit or mission type of `query` that no known launch uses,
    with the closest known name: what a 400 would have said, had the name been wrong
    rather than new."""
    notes = []
    for wanted, known, prefix in (
        (query.rockets | query.exclude_rockets, catalog.rockets, True),
        (query.orbits | query.exclude_orbits, catalog.orbits, False),
        (query.mission_types | query.exclude_mission_types, catalog.mission_types, False),
    ):
        for word in sorted(wanted):
            if rocket_matches(word, known.words) if prefix else word in known.words:
                continue
            close = difflib.get_close_matches(word, sorted(known.words), n=1, cutoff=0.6)
            hint = f" (closest known: '{close[0]}')" if close else ""
            notes.append(f"no listed launch has {known.label} '{word}' yet{hint}")
    return notes


def rocket_matches(wanted: str, words: Iterable[str]) -> bool:
    """`falcon-9` names "Falcon 9" and, as a prefix, "Falcon 9 Block 5"."""
    return any(w == wanted or w.startswith(wanted + "-") for w in words)


def _any_rocket(wanted: frozenset[str], item: Item) -> bool:
    words = _rocket_words(item)
    return any(rocket_matches(v, words) for v in wanted)


def _status_id(item: Item) -> int | None:
    if not isinstance(item, Launch) or item.status is None:
        return None
    if item.status.id in LAUNCH_STATUSES:
        return item.status.id
    return STATUS_WORDS.get(slugify(item.status.abbrev or item.status.name))


def _orbit_words(item: Item) -> set[str]:
    if not isinstance(item, Launch):
        return set()
    return {word_slug(n) for n in (item.orbit, item.orbit_abbrev) if n}


def _mission_type(item: Item) -> set[str]:
    if not isinstance(item, Launch) or not item.mission_type:
        return set()
    return {word_slug(item.mission_type)}


def _any_pad(wanted: frozenset[str], item: Item) -> bool:
    if not isinstance(item, Launch) or item.pad is None:
        return False
    text = fold(item.location or "")
    pad_id = str(item.pad.id) if item.pad.id is not None else None
    return any(w == pad_id if w.isdigit() else w in text for w in wanted)


def _own_id(q: FeedQuery, item: Item) -> bool:
    if isinstance(item, Event):
        return item.id in q.ids
    return item.id in q.launch_ids


def _linked_launch(q: FeedQuery, item: Item) -> bool:
    if isinstance(item, Event):
        return _any_id(q.launches, item.launches)
    return item.id in q.launches


# Each test with the query fields that make it matter: a query leaving them empty passes
# every item, so `select` skips the test (most queries set two or three of thirty).
_TESTS: tuple[tuple[tuple[str, ...], Callable[[FeedQuery, Item], bool]], ...] = (
    (("include",), lambda q, e: e.kind in q.include),
    (("vague",), lambda q, e: not (q.vague == "hide" and e.precision.is_vague)),
    (("types",), lambda q, e: _any_id(q.types, _types(e))),
    (("agencies",), lambda q, e: _any_id(q.agencies, e.agencies)),
    (("programs",), lambda q, e: _any_id(q.programs, e.programs)),
    (("exclude_types",), lambda q, e: not _any_id(q.exclude_types, _types(e))),
    (("exclude_agencies",), lambda q, e: not _any_id(q.exclude_agencies, e.agencies)),
    (("exclude_programs",), lambda q, e: not _any_id(q.exclude_programs, e.programs)),
    (
        ("spacestations",),
        lambda q, e: _any_id(q.spacestations, _of_event(e, lambda x: x.spacestations)),
    ),
    (("expeditions",), lambda q, e: _any_id(q.expeditions, _of_event(e, lambda x: x.expeditions))),
    (("launches",), _linked_launch),
    (("ids", "launch_ids"), _own_id),
    (("slugs",), lambda q, e: e.slug in q.slugs),
    (("locations",), lambda q, e: any(s in fold(e.location or "") for s in q.locations)),
    (("searches",), lambda q, e: any(s in fold(e.name) for s in q.searches)),
    (("video_urls",), lambda q, e: any(v.url in q.video_urls for v in e.videos)),
    (("webcast",), lambda q, e: bool(e.videos) == q.webcast),
    (
        ("updated_after",),
        lambda q, e: bool(e.last_updated and q.updated_after and e.last_updated >= q.updated_after),
    ),
    (
        ("updated_before",),
        lambda q, e: bool(
            e.last_updated and q.updated_before and e.last_updated <= q.updated_before
        ),
    ),
    (("years",), lambda q, e: e.start.year in q.years),
    (("months",), lambda q, e: e.start.month in q.months),
    (("days",), lambda q, e: e.start.day in q.days),
    (("rockets",), lambda q, e: _any_rocket(q.rockets, e)),
    (("exclude_rockets",), lambda q, e: not _any_rocket(q.exclude_rockets, e)),
    (("statuses",), lambda q, e: _status_id(e) in q.statuses),
    (("exclude_statuses",), lambda q, e: _status_id(e) not in q.exclude_statuses),
    (("orbits",), lambda q, e: bool(_orbit_words(e) & q.orbits)),
    (("exclude_orbits",), lambda q, e: not _orbit_words(e) & q.exclude_orbits),
    (("mission_types",), lambda q, e: bool(_mission_type(e) & q.mission_types)),
    (("exclude_mission_types",), lambda q, e: not _mission_type(e) & q.exclude_mission_types),
    (("pads",), lambda q, e: _any_pad(q.pads, e)),
    (("exclude_pads",), lambda q, e: not _any_pad(q.exclude_pads, e)),
)
# Field values that leave a test out: empty, unset, or the value that excludes nothing.
_INERT: dict[str, Any] = {"include": EVERYTHING, "vague": "mark", "webcast": None}


def active_tests(query: FeedQuery) -> tuple[Callable[[FeedQuery, Item], bool], ...]:
    """The tests this query's fields can make fail. An item matches when every one holds
    (AND); inside one parameter, any value may (OR). A parameter about something a kind of
    item does not have (an event's type, a launch's rocket) leaves that kind out when given,
    and never excludes it when negated."""
    return tuple(
        test
        for names, test in _TESTS
        if any(_matters(name, getattr(query, name)) for name in names)
    )


def _matters(name: str, value: Any) -> bool:
    if name in _INERT:
        return bool(value != _INERT[name])
    return bool(value)


@dataclass(frozen=True, slots=True)
class Selection:
    """The entries of a feed, in start order, and how many the cap left out."""

    entries: tuple[Entry, ...]
    total: int

    @property
    def dropped(self) -> int:
        return self.total - len(self.entries)


def matcher(snapshot: Snapshot, query: FeedQuery, now: datetime) -> Callable[[Entry], bool]:
    """Whether an entry of `snapshot` is in the selection of `query` at `now` (its window
    and every filter), whatever the feed's cap. The packaged sample is judged as of its
    capture time per kind (`asof`), never today."""
    lows = {kind: query.window(moment(snapshot, kind, now))[0] for kind in KINDS}
    high = query.before
    tests = active_tests(query)

    def matches(entry: Entry) -> bool:
        return (
            ((low := lows.get(entry.kind)) is None or entry.item.start >= low)
            and (high is None or entry.item.start <= high)
            and all(test(query, entry.item) for test in tests)
        )

    return matches


def select(snapshot: Snapshot, query: FeedQuery, now: datetime, limit: int) -> Selection:
    """The entries a feed for `query` shows; past `limit`, those nearest to `now` win.
    The packaged sample is shown as of its capture time per kind (`asof`), never today."""
    nows = {kind: moment(snapshot, kind, now) for kind in KINDS}
    matches = matcher(snapshot, query, now)
    chosen = [entry for entry in snapshot.ordered_entries if matches(entry)]
    total = len(chosen)
    if total > limit:

        def distance(e: Entry) -> tuple[timedelta, str]:
            return (abs(e.item.start - nows.get(e.kind, now)), e.item.key)

        nearest = sorted(chosen, key=distance)[:limit]
        chosen = sorted(nearest, key=lambda e: (e.item.start, e.item.key))
    return Selection(tuple(chosen), total)


def feed_day(now: datetime) -> datetime:
    """`now` rounded down to the day, so a feed stays byte-identical for a whole day."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
