"""The agencies, programs, event types and launch vocabulary (rockets, orbits, mission types)
a snapshot knows, and how users may name them.

Agencies count both the agencies of events and the providers of launches.  A name given in a
query (id, slug, abbreviation or full name, any case, accents or not) is
resolved here to an id, so ``program=SpaceX Starship`` and ``program=1`` are the same query.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..base.errors import QueryError, shown
from ..ll2.models import (
    MAX_SLUG_CHARS,
    Agency,
    Event,
    EventType,
    Item,
    Launch,
    Program,
    slugify,
    word_slug,
)

Named = Agency | Program | EventType
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
    items: dict[int, Named]  # id → the newest version of the item
    keys: dict[str, int]  # every accepted spelling → id
    counts: Counter[int]  # events per id
    synonyms: dict[str, str]
    slugs: dict[int, str]  # id → the one slug we print for it (URLs, file names)

    def resolve(self, value: str) -> int:
        """The id a user's spelling names; QueryError with suggestions when none."""
        key = slugify(value) or value.strip().lower()
        key = self.synonyms.get(key, key)
        # A long LL2 slug is printed cut short (MAX_SLUG_CHARS); its full form still finds it.
        cut = key[:MAX_SLUG_CHARS].strip("-")
        for candidate in (key, key.removesuffix("s"), key.removesuffix("es"), cut):
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
        """The item's slug in our URLs and file names: ASCII letters, digits and '-', unique
        in this family, and always resolving back to this item."""
        return self.slugs[item_id]

    def name(self, item_id: int) -> str:
        return self.items[item_id].name


@dataclass(frozen=True, slots=True)
class Words:
    """Names of launch properties that have no LL2 id worth asking users for: the slugs of
    every spelling seen, with how many launches use each."""

    label: str  # "rocket", "orbit", "mission type"
    counts: Counter[str]  # slug → launches
    names: dict[str, str]  # slug → the name as LL2 writes it

    @property
    def words(self) -> frozenset[str]:
        return frozenset(self.names)

    @classmethod
    def build(cls, label: str, launches: Iterable[Launch], pick: Callable[[Launch], Any]) -> Words:
        # Each spelling slugged once, in the order first seen (a Counter keeps it).
        spelt = Counter(name for launch in launches for name in pick(launch) if name)
        counts: Counter[str] = Counter()
        names: dict[str, str] = {}
        for name, times in spelt.items():
            slug = word_slug(name)
            if slug:
                names.setdefault(slug, name)
                counts[slug] += times
        return cls(label, counts, names)


@dataclass(frozen=True, slots=True)
class Catalog:
    agencies: Kind
    programs: Kind
    types: Kind
    rockets: Words
    orbits: Words
    mission_types: Words

    @classmethod
    def build(cls, items: Iterable[Item], also: Iterable[Item] = ()) -> Catalog:
        """The names in `items` (counted) and in `also` (known, but not counted)."""
        # Oldest first, so the newest spelling of a renamed item is the one shown.
        ordered = sorted(items, key=lambda e: (e.last_updated or e.start, e.key))
        extra = list(also)
        launches = [i for i in (*ordered, *extra) if isinstance(i, Launch)]
        return cls(
            agencies=_kind("agency", ordered, extra, lambda e: e.agencies, {}),
            programs=_kind("program", ordered, extra, lambda e: e.programs, {}),
            types=_kind("type", ordered, extra, _types, TYPE_SYNONYMS),
            rockets=Words.build(
                "rocket",
                launches,
                lambda x: (x.rocket, x.rocket_family, x.rocket_full_name, _number(x.rocket_id)),
            ),
            orbits=Words.build("orbit", launches, lambda x: (x.orbit, x.orbit_abbrev)),
            mission_types=Words.build("mission type", launches, lambda x: (x.mission_type,)),
        )


def _types(item: Item) -> tuple[EventType, ...]:
    return (item.type,) if isinstance(item, Event) and item.type else ()


def _number(value: int | None) -> str | None:
    return str(value) if value is not None else None


def _kind(
    label: str,
    events: list[Item],
    also: list[Item],
    pick: Callable[[Item], Iterable[Named]],
    synonyms: dict[str, str],
) -> Kind:
    items: dict[int, Named] = {}
    spellings: dict[int, list[Named]] = {}
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
    # Each spelling once, newest first (10,000 launches repeat a few hundred agencies).
    distinct = {item_id: list(dict.fromkeys(reversed(spellings[item_id]))) for item_id in items}
    for spell in (_by_id, _by_slug, _by_name, _by_abbrev, _by_initials):
        for item_id in sorted(items):
            for version in distinct[item_id]:
                for key in spell(version):
                    keys.setdefault(key, item_id)
    slugs = {item_id: _unique_slug(items[item_id], keys) for item_id in sorted(items)}
    return Kind(label, items, keys, counts, synonyms, slugs)


def _unique_slug(item: Named, keys: dict[str, int]) -> str:
    """The item's own slug when it names this item; when two items share one (LL2 allows it,
    and slugs of different names can fold together) the lowest id, usually the older item,
    keeps it and the other gets its id appended. The id itself is the last resort: it always
    resolves (ids are the strongest spelling). Registers the slug it picks in `keys`."""
    base = getattr(item, "slug", None) or word_slug(item.name)
    for candidate in (base, f"{base}-{item.id}" if base else ""):
        if candidate and keys.setdefault(candidate, item.id) == item.id:
            return candidate
    return str(item.id)


def _by_id(item: Named) -> Iterable[str]:
    yield str(item.id)


def _by_slug(item: Named) -> Iterable[str]:
    slug = getattr(item, "slug", None)
    if slug:
        yield slugify(slug)


def _by_name(item: Named) -> Iterable[str]:
    yield slugify(item.name)


def _by_abbrev(item: Named) -> Iterable[str]:
    abbrev = getattr(item, "abbrev", None)
    if abbrev:
        yield slugify(abbrev)


def _by_initials(item: Named) -> Iterable[str]:
    """'International Space Station' → 'iss'; only for names of three or more words."""
    words = [w for w in slugify(item.name).split("-") if w not in ("and", "of", "the")]
    if len(words) >= 3:
        yield "".join(w[0] for w in words)
