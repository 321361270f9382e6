"""The agencies, programs and event types a snapshot knows, and how users may name them.

A name given in a query (id, slug, abbreviation or full name, any case, accents or not) is
resolved here to an id, so ``program=SpaceX Starship`` and ``program=1`` are the same query.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .errors import QueryError, shown
from .models import Agency, Event, EventType, Program, slugify

Item = Agency | Program | EventType
# Words people use for LL2's own type names.
TYPE_SYNONYMS = {
    "spacewalk": "eva",
    "static-fire-test": "static-fire",
    "wdr": "wet-dress-rehearsal",
}


@dataclass(frozen=True, slots=True)
class Kind:
    """One family of names: what it is called in messages and how to spell its items."""

    label: str  # "agency", "program", "type"
    items: dict[int, Item]  # id → the newest version of the item
    keys: dict[str, int]  # every accepted spelling → id
    counts: Counter[int]  # events per id
    synonyms: dict[str, str]

    def resolve(self, value: str) -> int:
        """The id a user's spelling names; QueryError with suggestions when none."""
        key = slugify(value) or value.strip().lower()
        key = self.synonyms.get(key, key)
        for candidate in (key, key.removesuffix("s"), key.removesuffix("es")):
            if candidate in self.keys:
                return self.keys[candidate]
        suggestions = self.suggest(key)
        hint = f" (did you mean '{suggestions[0]}'?)" if suggestions else ""
        raise QueryError(f"unknown {self.label} '{shown(value.strip())}'{hint}", suggestions)

    def suggest(self, key: str) -> tuple[str, ...]:
        """Close slugs, also matching a part of a longer name ('startship' → 'spacex-starship')."""
        slugs = sorted({self.slug(i) for i in self.items})
        close = difflib.get_close_matches(key, slugs, n=3, cutoff=0.6)
        for slug in slugs:
            parts = slug.split("-")
            if slug not in close and difflib.get_close_matches(key, parts, n=1, cutoff=0.75):
                close.append(slug)
        return tuple(close[:3])

    def slug(self, item_id: int) -> str:
        item = self.items[item_id]
        return getattr(item, "slug", None) or slugify(item.name)

    def name(self, item_id: int) -> str:
        return self.items[item_id].name


@dataclass(frozen=True, slots=True)
class Catalog:
    agencies: Kind
    programs: Kind
    types: Kind

    @classmethod
    def build(cls, events: Iterable[Event], also: Iterable[Event] = ()) -> Catalog:
        """The names in `events` (counted) and in `also` (known, but not counted)."""
        # Oldest first, so the newest spelling of a renamed item is the one shown.
        ordered = sorted(events, key=lambda e: (e.last_updated or e.start, e.id))
        extra = list(also)
        return cls(
            agencies=_kind("agency", ordered, extra, lambda e: e.agencies, {}),
            programs=_kind("program", ordered, extra, lambda e: e.programs, {}),
            types=_kind(
                "type", ordered, extra, lambda e: (e.type,) if e.type else (), TYPE_SYNONYMS
            ),
        )


def _kind(
    label: str,
    events: list[Event],
    also: list[Event],
    pick: Callable[[Event], Iterable[Item]],
    synonyms: dict[str, str],
) -> Kind:
    items: dict[int, Item] = {}
    spellings: dict[int, list[Item]] = {}
    counts: Counter[int] = Counter()
    for event in also:
        for item in pick(event):
            items.setdefault(item.id, item)
            spellings.setdefault(item.id, []).append(item)
    for event in events:
        for item in pick(event):
            items[item.id] = item
            spellings.setdefault(item.id, []).append(item)
            counts[item.id] += 1
    keys: dict[str, int] = {}
    # Strongest spellings first; a weaker one never shadows a stronger one of another item.
    for spell in (_by_id, _by_slug, _by_name, _by_abbrev, _by_initials):
        for item_id in sorted(items):
            for version in reversed(spellings[item_id]):
                for key in spell(version):
                    keys.setdefault(key, item_id)
    return Kind(label, items, keys, counts, synonyms)


def _by_id(item: Item) -> Iterable[str]:
    yield str(item.id)


def _by_slug(item: Item) -> Iterable[str]:
    slug = getattr(item, "slug", None)
    if slug:
        yield slugify(slug)


def _by_name(item: Item) -> Iterable[str]:
    yield slugify(item.name)


def _by_abbrev(item: Item) -> Iterable[str]:
    abbrev = getattr(item, "abbrev", None)
    if abbrev:
        yield slugify(abbrev)


def _by_initials(item: Item) -> Iterable[str]:
    """'International Space Station' → 'iss'; only for names of three or more words."""
    words = [w for w in slugify(item.name).split("-") if w not in ("and", "of", "the")]
    if len(words) >= 3:
        yield "".join(w[0] for w in words)
