"""The kinds of item synced from Launch Library 2 (events, launches) and the listing
parameters each pass asks with; cursors count in whole UTC seconds (`stamp`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..base.config import Settings
from ..ll2.models import Event, Launch, ParsedPage, parse_events, parse_launches, utc_stamp


@dataclass(frozen=True, slots=True)
class Stream:
    """One kind of item and how it is read from LL2."""

    kind: str  # Event.kind or Launch.kind
    path: str  # the listing, "events/"; its upcoming window is path + "upcoming/"
    parse: Callable[[Iterable[Any]], ParsedPage]
    incremental_minutes: int
    # Only items dated this far back are synced (None: the whole history).
    history: timedelta | None = None
    # The reconcile reads the upcoming window this far ahead (None: all of it).
    horizon: timedelta | None = None

    def upcoming_params(self, now: datetime) -> dict[str, str | int]:
        params: dict[str, str | int] = {"mode": "detailed"}
        if self.horizon is not None:
            params["net__lte"] = stamp(now + self.horizon)
        return params

    def changes_params(self, since: str | None, now: datetime) -> dict[str, str | int]:
        """The first page of items stamped at or after `since`, oldest change first."""
        params: dict[str, str | int] = {"mode": "detailed", "ordering": "last_updated"}
        if self.history is not None:
            params["net__gte"] = stamp(now - self.history)
        if since:
            params["last_updated__gte"] = since
        return params

    def history_params(self, second: str, now: datetime) -> dict[str, str | int]:
        """The first page of items stamped in or before `second`, newest change first."""
        params: dict[str, str | int] = {
            "mode": "detailed",
            "ordering": "-last_updated",
            "last_updated__lte": end_of(second),
        }
        if self.history is not None:
            params["net__gte"] = stamp(now - self.history)
        return params

    @property
    def history_days(self) -> int | None:
        """How far back this stream is synced, in days (None: the whole history)."""
        return None if self.history is None else self.history.days

    def tie_params(self, second: str, offset: int, now: datetime) -> dict[str, str | int]:
        """Items stamped within one `second`, in id order (total and stable), from `offset`."""
        params: dict[str, str | int] = {
            "mode": "detailed",
            "ordering": "id",
            "last_updated__gte": second,
            "last_updated__lte": end_of(second),
        }
        if self.history is not None:
            params["net__gte"] = stamp(now - self.history)
        if offset:
            params["offset"] = offset
        return params


def streams_for(settings: Settings) -> tuple[Stream, ...]:
    """The streams these settings sync: events always, launches unless switched off."""
    streams = [Stream(Event.kind, "events/", parse_events, settings.incremental_minutes)]
    if settings.launches:
        streams.append(
            Stream(
                Launch.kind,
                "launches/",
                parse_launches,
                settings.launch_incremental_minutes,
                history=(
                    timedelta(days=settings.launch_history_days)
                    if settings.launch_history_days
                    else None
                ),
                horizon=timedelta(days=settings.launch_horizon_days),
            )
        )
    return tuple(streams)


def end_of(second: str) -> str:
    """The last instant of a whole-second stamp, for an inclusive upper bound."""
    return second.removesuffix("Z") + ".999999Z"


def stamp(moment: datetime) -> str:
    """Whole seconds, UTC: the cursor's unit (a stamp's fraction never moves it)."""
    return utc_stamp(moment)


def parse_stamp(text: str) -> datetime:
    """A whole-second stamp (as `stamp` writes it) as a moment."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
