"""Words for a selection: the calendar's name and description, the download file name."""

from __future__ import annotations

from dataclasses import dataclass

from .catalog import Catalog, Kind
from .filters import FeedQuery, Selection, query_key


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
    picked += sorted(f'"{s}"' for s in query.searches)
    name = "Spaceflight events" + (" — " + " · ".join(picked) if picked else "")
    details = []
    excluded = (
        _names(catalog.programs, query.exclude_programs)
        + _names(catalog.agencies, query.exclude_agencies)
        + _names(catalog.types, query.exclude_types)
    )
    if excluded:
        details.append("without " + " · ".join(excluded))
    if query.locations:
        details.append("at " + " or ".join(sorted(query.locations)))
    if query.webcast:
        details.append("with a webcast")
    if query.vague == "hide":
        details.append("only events dated to the day or better")
    if selection is not None and selection.dropped:
        details.append(
            f"showing the {len(selection.entries)} events nearest today of {selection.total}"
        )
    description = name + (" (" + " · ".join(details) + ")" if details else "")
    description += ". Data: Launch Library 2 by The Space Devs. Made by icalfeed."
    stem = "-".join(
        [catalog.programs.slug(i) for i in sorted(query.programs)]
        + [catalog.agencies.slug(i) for i in sorted(query.agencies)]
        + [catalog.types.slug(i) for i in sorted(query.types)]
    )
    return CalendarMeta(
        name=name,
        description=description,
        uid=f"icalfeed-{query_key(query)}",
        filename=(stem[:80].strip("-") or "spaceflight-events") + ".ics",
    )


def _names(kind: Kind, ids: frozenset[int]) -> list[str]:
    return sorted(kind.name(i) for i in ids if i in kind.items)
