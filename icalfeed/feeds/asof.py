"""The moment a selection is shown as of: now for live data, the capture time for the sample.

The packaged sample is a picture of Launch Library 2 taken at one moment per kind (events
at one time, launches when their upcoming page was read). Shown on today's clock it would
age into an empty demo, so while the sample is served, feeds, pages and the widget treat
"now" as that moment and say so. A synced snapshot is never shifted.

Pure: no Flask, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from ..data.snapshot import Snapshot
from ..ll2.models import Event, Launch

KINDS = (Event.kind, Launch.kind)


def moment(snapshot: Snapshot, kind: str, now: datetime) -> datetime:
    """`now` for an item of `kind` in `snapshot`: its capture time when it is the sample."""
    if snapshot.source != "sample":
        return now
    return snapshot.as_of.get(kind) or snapshot.saved_at or now


def sample_times(snapshot: Snapshot, kinds: Iterable[str] = KINDS) -> dict[str, datetime]:
    """The capture time of each of `kinds` when `snapshot` is the sample; empty when live."""
    if snapshot.source != "sample":
        return {}
    wanted = set(kinds)
    found = {kind: snapshot.as_of.get(kind) or snapshot.saved_at for kind in KINDS}
    return {kind: at for kind, at in found.items() if at is not None and kind in wanted}


def sample_as_of(snapshot: Snapshot, kinds: Iterable[str] = KINDS) -> datetime | None:
    """The latest capture time of `kinds` when `snapshot` is the sample; None when live."""
    return max(sample_times(snapshot, kinds).values(), default=None)


def day_text(moment: datetime) -> str:
    """A moment as its day in words: "26 September 2026" (UTC)."""
    return f"{moment.astimezone(UTC):%-d %B %Y}"


def sample_note(snapshot: Snapshot, kinds: Iterable[str] = KINDS) -> str | None:
    """One sentence saying the data is the sample and as of when; None for live data."""
    shown = [k for k in KINDS if k in set(kinds)]
    latest = sample_as_of(snapshot, shown)
    if latest is None:
        return None
    note = f"Sample data as of {day_text(latest)}"
    launches = snapshot.as_of.get(Launch.kind)
    if Launch.kind in shown and len(shown) > 1 and launches and launches.date() != latest.date():
        note += f" (launches as of {day_text(launches)})"
    return note + " — not live; set up a sync to see today's."
