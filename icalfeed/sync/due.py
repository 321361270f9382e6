"""When a pass falls due, and which stream or pass has waited longest: the order a sync
takes its passes in."""

from __future__ import annotations

from datetime import datetime, timedelta

from ..data.snapshot import Snapshot
from .report import CHANGES
from .streams import Stream


def due(last: datetime | None, now: datetime, minutes: int) -> bool:
    return last is None or now - last >= timedelta(minutes=minutes)


def longest_waiting_passes(
    passes: list[tuple[Stream, str]], snap: Snapshot
) -> list[tuple[Stream, str]]:
    """Changes and history passes, the one that waited longest first."""

    def waited(entry: tuple[Stream, str]) -> datetime:
        stream, name = entry
        return last_done(snap, stream, "changes_at" if name == CHANGES else "history_at")

    return sorted(passes, key=waited)


def longest_waiting(streams: list[Stream], snap: Snapshot, attribute: str) -> list[Stream]:
    """Never-done first, then the oldest; ties keep the configured order."""
    return sorted(streams, key=lambda stream: last_done(snap, stream, attribute))


def last_done(snap: Snapshot, stream: Stream, attribute: str) -> datetime:
    """When a stream's pass last ran (`attribute` of its state), naive; never: the minimum."""
    when: datetime | None = getattr(snap.sync(stream.kind), attribute)
    return when.replace(tzinfo=None) if when else datetime.min


def due_times(
    last: datetime | None, minutes: int, now: datetime, retry_at: datetime | None = None
) -> list[datetime]:
    """When a pass run every `minutes` (last at `last`; failing, tried again at `retry_at`)
    falls due in the coming hour."""
    step = timedelta(minutes=minutes)
    at = now if last is None else max(now, last + step)
    if retry_at is not None:
        at = max(now, retry_at)
    times = []
    while at < now + timedelta(hours=1):
        times.append(at)
        at += step
    return times
