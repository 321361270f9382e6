"""Rendered feeds, kept per (format, query, data version, day) so a popular feed renders once;
and the per-item pieces (VEVENT bytes, JSON objects) every new query is joined from."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import LRUCache

from .ics import Piece
from .jsonfeed import item_json_piece
from .output import Rendered
from .segmented import SegmentedCache
from .snapshot import Entry

P = TypeVar("P")

# Bytes of rendered feeds kept: bounded by size, not count, as one feed may be 1,000 times
# bigger than another.  Entries of an old data version are never hit again and age out.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class FeedCache:
    """Rendered feeds in a segmented LRU (see `segmented`): a feed asked for twice is
    protected from a flood of one-off queries; a new data version simply misses."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._cache: SegmentedCache[Rendered] = SegmentedCache(
            max_bytes, lambda feed: len(feed.body) + 512
        )
        self._lock = threading.Lock()
        self.renders = 0

    def get(self, key: Hashable, render: Callable[[], Rendered]) -> Rendered:
        """The cached feed for `key`, rendering it (outside any lock) on a miss; `render`
        may raise (admission refused), and then nothing is stored."""
        found = self._cache.get(key)
        if found is None:
            found = render()
            with self._lock:
                self.renders += 1
            self._cache.put(key, found)
        return found


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
