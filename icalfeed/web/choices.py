"""What the builder page and the directories offer to pick from: programs, agencies and event
types, and for launches rockets and launch statuses, each with how many upcoming items and
how many in all it names, the busiest first."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from ..data.catalog import Kind
from ..data.snapshot import Snapshot
from ..feeds.asof import KINDS, moment
from ..feeds.query import LAUNCH_STATUSES, FeedQuery
from ..feeds.select import feed_day
from ..ll2.models import Event, Item, Launch, word_slug

K = TypeVar("K", bound=Hashable)

# How the builder names each launch status (the filter takes the first word of LAUNCH_STATUSES).
STATUS_NAMES = {
    1: "Go for launch",
    2: "To be determined",
    3: "Success",
    4: "Failure",
    5: "On hold",
    6: "In flight",
    7: "Partial failure",
    8: "To be confirmed",
}


@dataclass(frozen=True, slots=True)
class Choice:
    """One agency, program, type, rocket or status as the builder and directories list it."""

    slug: str
    name: str
    upcoming: int
    total: int
    checked: bool = False


@dataclass(frozen=True, slots=True)
class Group:
    param: str
    title: str
    choices: tuple[Choice, ...]
    launches_only: bool = False  # shown only while the calendar includes launches


def builder_groups(snapshot: Snapshot, query: FeedQuery, today: datetime) -> list[Group]:
    catalog = snapshot.catalog
    groups = [
        Group(param, title, choices(kind, snapshot, param, today, picked))
        for param, title, kind, picked in (
            ("program", "Programs", catalog.programs, query.programs),
            ("agency", "Agencies", catalog.agencies, query.agencies),
            ("type", "Event types", catalog.types, query.types),
        )
    ]
    return [*groups, rocket_group(snapshot, query, today), status_group(snapshot, query, today)]


def choices(
    kind: Kind, snapshot: Snapshot, param: str, today: datetime, checked: frozenset[int]
) -> tuple[Choice, ...]:
    """Every item with its counts, the busiest upcoming first, then by name."""
    upcoming = upcoming_counts(snapshot, param, today)
    listed = [
        Choice(kind.slug(i), kind.name(i), upcoming[i], kind.counts[i], i in checked)
        for i in kind.items
    ]
    return _busiest_first(listed)


def upcoming_counts(snapshot: Snapshot, param: str, today: datetime) -> Counter[int]:
    return _count(snapshot, today, lambda item: _named_ids(item, param))[0]


def named_by_launches(snapshot: Snapshot, param: str, kind: Kind) -> set[str]:
    """Slugs of the programs or agencies (never types) that some launch names."""
    return {
        kind.slug(i)
        for launch in snapshot.launches
        for i in _named_ids(launch, param)
        if i in kind.items
    }


def _named_ids(item: Item, param: str) -> Iterable[int]:
    """Ids of the programs, agencies or event types (by `param`) an item names."""
    if param == "type":
        return (item.type.id,) if isinstance(item, Event) and item.type else ()
    return (n.id for n in (item.agencies if param == "agency" else item.programs))


def rocket_group(snapshot: Snapshot, query: FeedQuery, today: datetime) -> Group:
    """Rockets by configuration name ("Falcon 9"); the feed also takes families and full
    names, but one line per rocket is what a person picks from."""

    def rocket(item: Item) -> Iterable[str]:
        slug = word_slug(item.rocket) if isinstance(item, Launch) and item.rocket else ""
        return (slug,) if slug else ()

    upcoming, total = _count(snapshot, today, rocket)
    names = snapshot.catalog.rockets.names  # the spelling the calendar's name uses
    listed = [
        Choice(slug, names.get(slug, slug), upcoming[slug], total[slug], slug in query.rockets)
        for slug in total
    ]
    return Group("rocket", "Rockets", _busiest_first(listed), launches_only=True)


def status_group(snapshot: Snapshot, query: FeedQuery, today: datetime) -> Group:
    """Every launch status, in a fixed order (the order the feed URL lists them in)."""

    def status(item: Item) -> Iterable[int]:
        if isinstance(item, Launch) and item.status and item.status.id in LAUNCH_STATUSES:
            return (item.status.id,)
        return ()

    upcoming, total = _count(snapshot, today, status)
    listed = tuple(
        Choice(LAUNCH_STATUSES[i][0], STATUS_NAMES[i], upcoming[i], total[i], i in query.statuses)
        for i in sorted(LAUNCH_STATUSES)
    )
    return Group("status", "Launch status", listed, launches_only=True)


def _count(
    snapshot: Snapshot, today: datetime, keys: Callable[[Item], Iterable[K]]
) -> tuple[Counter[K], Counter[K]]:
    """(upcoming, in all) counts of what `keys` names, over items not removed upstream."""
    upcoming: Counter[K] = Counter()
    total: Counter[K] = Counter()
    days = {kind: feed_day(moment(snapshot, kind, today)) for kind in KINDS}  # sample: its day
    for entry in snapshot.ordered_entries:
        if entry.removed_at is not None:
            continue
        named = list(keys(entry.item))
        total.update(named)
        if entry.item.start >= days.get(entry.kind, today):
            upcoming.update(named)
    return upcoming, total


def _busiest_first(listed: Iterable[Choice]) -> tuple[Choice, ...]:
    return tuple(sorted(listed, key=lambda c: (-c.upcoming, c.name.lower())))
