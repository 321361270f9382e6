"""Words for a selection: the calendar's name and description, the download file name."""

from __future__ import annotations

from dataclasses import dataclass

from ..data.catalog import Catalog, Kind, Words
from .query import EVENTS_ONLY, LAUNCH_STATUSES, LAUNCHES_ONLY, FeedQuery, query_key
from .select import Selection


@dataclass(frozen=True, slots=True)
class CalendarMeta:
    """What the calendar as a whole says about itself."""

    name: str
    description: str
    uid: str  # stable per selection (RFC 7986 §5.3)
    filename: str


def calendar_meta(
    query: FeedQuery, catalog: Catalog, selection: Selection | None = None
) -> CalendarMeta:
    """Describe the selection in a line: "Spaceflight events — SpaceX Starship · Docking";
    given the `selection`, also say when the cap left events out."""
    picked = (
        _names(catalog.programs, query.programs)
        + _names(catalog.agencies, query.agencies)
        + _names(catalog.types, query.types)
    )
    picked += _words(catalog.rockets, query.rockets)
    picked += sorted(f'"{s}"' for s in query.searches)
    noun = _noun(query.include)
    name = f"Spaceflight {noun}" + (" — " + " · ".join(picked) if picked else "")
    details = []
    excluded = (
        _names(catalog.programs, query.exclude_programs)
        + _names(catalog.agencies, query.exclude_agencies)
        + _names(catalog.types, query.exclude_types)
    )
    excluded += _words(catalog.rockets, query.exclude_rockets)
    if excluded:
        details.append("without " + " · ".join(excluded))
    if query.statuses:
        details.append(
            "status " + " or ".join(LAUNCH_STATUSES[i][0] for i in sorted(query.statuses))
        )
    for label, words, wanted in (
        ("orbit", catalog.orbits, query.orbits),
        ("mission type", catalog.mission_types, query.mission_types),
    ):
        if wanted:
            details.append(f"{label} " + " or ".join(_words(words, wanted)))
    if query.pads:
        details.append("from pad " + " or ".join(sorted(query.pads)))
    if query.locations:
        details.append("at " + " or ".join(sorted(query.locations)))
    if query.webcast:
        details.append("with a webcast")
    if query.vague == "hide":
        details.append(f"only {noun} dated to the day or better")
    if selection is not None and selection.dropped:
        details.append(
            f"showing the {len(selection.entries)} {noun} nearest today of {selection.total}"
        )
    description = name + (" (" + " · ".join(details) + ")" if details else "")
    description += ". Data: Launch Library 2 by The Space Devs. Made by icalfeed."
    stem = "-".join(
        [catalog.programs.slug(i) for i in sorted(query.programs)]
        + [catalog.agencies.slug(i) for i in sorted(query.agencies)]
        + [catalog.types.slug(i) for i in sorted(query.types)]
        + sorted(query.rockets)
    )
    default_stem = {EVENTS_ONLY: "spaceflight-events", LAUNCHES_ONLY: "launches"}.get(
        query.include, "spaceflight-events-and-launches"
    )
    return CalendarMeta(
        name=name,
        description=description,
        uid=f"icalfeed-{query_key(query)}",
        filename=(stem[:80].strip("-") or default_stem) + ".ics",
    )


def _names(kind: Kind, ids: frozenset[int]) -> list[str]:
    return sorted(kind.name(i) for i in ids if i in kind.items)


def _words(words: Words, slugs: frozenset[str]) -> list[str]:
    return sorted(words.names.get(s, s) for s in slugs)


def _noun(include: frozenset[str]) -> str:
    if include == EVENTS_ONLY:
        return "events"
    return "launches" if include == LAUNCHES_ONLY else "events and launches"
