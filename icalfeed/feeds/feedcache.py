"""Rendered feeds, kept per (format, query, data version, day) so a popular feed renders once;
and the per-item pieces (VEVENT bytes, JSON objects) every new query is joined from."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import LRUCache

from ..base.segmented import SegmentedCache
from ..data.snapshot import Entry
from .ics import Piece
from .jsonfeed import item_json_piece
from .output import Rendered

P = TypeVar("P")

# Bytes of rendered feeds kept: bounded by size, not count, as one feed may be 1,000 times
# bigger than another.  Entries of an old data version are never hit again and age out.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class FeedCache:
    """Rendered feeds in a segmented LRU (see `segmented`): a feed asked for twice is
    protected from a flood of one-off queries; a new data version simply misses.

    Single flight: after a sync every feed is cold, and calendar servers polling a popular
    URL ask for it at the same moment. The first miss renders; the others wait for that
    render (at most `follow_seconds`) instead of each starting their own and filling the
    render lane with identical work. Only distinct new queries compete for the lane.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, follow_seconds: float = 10.0) -> None:
        self._cache: SegmentedCache[Rendered] = SegmentedCache(
            max_bytes, lambda feed: len(feed.body) + 512
        )
        self._lock = threading.Lock()
        self._flights: dict[Hashable, _Flight] = {}
        self.follow_seconds = follow_seconds
        self.renders = 0
        self.followed = 0

    def get(self, key: Hashable, render: Callable[[], Rendered]) -> Rendered:
        """The cached feed for `key`, rendering it (outside any lock) on a miss, or waiting
        for the render of `key` already running; `render` may raise (admission refused), and
        then nothing is stored. A follower whose leader failed or took too long renders on
        its own (with its own admission)."""
        for _ in range(2):
            found = self._cache.get(key)
            if found is not None:
                return found
            with self._lock:
                flight = self._flights.get(key)
                leading = flight is None
                if flight is None:
                    flight = self._flights[key] = _Flight()
            if leading:
                return self._lead(key, flight, render)
            if flight.done.wait(self.follow_seconds) and flight.result is not None:
                with self._lock:
                    self.followed += 1
                return flight.result
        return self._lead(key, _Flight(), render)  # a second failed flight: no more waiting

    def _lead(self, key: Hashable, flight: _Flight, render: Callable[[], Rendered]) -> Rendered:
        try:
            found = render()
            with self._lock:
                self.renders += 1
            self._cache.put(key, found)
            flight.result = found
            return found
        finally:
            with self._lock:
                if self._flights.get(key) is flight:
                    del self._flights[key]
            flight.done.set()


class _Flight:
    """One render in progress, and what it made (None until done, or when it failed)."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Rendered | None = None


class _PieceCache(Generic[P]):
    """Per-item pieces by (item, content digest), bounded by bytes: building one is most of
    a feed's render time, and most feeds share most items."""

    def __init__(
        self, build: Callable[[Entry], P], size: Callable[[P], int], max_bytes: int
    ) -> None:
        self._build = build
        self._cache: LRUCache[Hashable, P] = LRUCache(maxsize=max_bytes, getsizeof=size)
        self._lock = threading.Lock()
        self.builds = 0

    def piece(self, entry: Entry) -> P:
        key = (entry.item.key, entry.digest)
        with self._lock:
            found = self._cache.get(key)
        if found is None:
            found = self._build(entry)
            with self._lock:
                self.builds += 1
                self._cache[key] = found
        return found


class VeventCache(_PieceCache[Piece]):
    """VEVENT bytes per item; reminders are spliced in per request, so any `alarm=` is as
    warm as none."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        super().__init__(Piece.build, lambda p: len(p.body) + 200, max_bytes)

    def get(self, entry: Entry, alarms: tuple[int, ...]) -> bytes:
        return self.piece(entry).with_alarms(alarms)


class JsonCache(_PieceCache[bytes]):
    """Each item's JSON object, serialised (UTF-8) as it sits in a feed document."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES // 2) -> None:
        super().__init__(item_json_piece, len, max_bytes)

    def get(self, entry: Entry) -> bytes:
        return self.piece(entry)
