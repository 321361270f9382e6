"""Rendered feeds, kept per (format, query, data version, day) so a popular feed renders once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from cachetools import LRUCache

from .ics import vevent_bytes
from .output import Rendered
from .snapshot import Entry

# Bytes of rendered feeds kept: bounded by size, not count, as one feed may be 1,000 times
# bigger than another.  Entries of an old data version are never hit again and age out.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class FeedCache:
    """A thread-safe LRU of rendered feeds; a new data version simply misses."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._cache: LRUCache[Hashable, Rendered] = LRUCache(
            maxsize=max_bytes, getsizeof=lambda feed: len(feed.body) + 512
        )
        self._lock = threading.Lock()
        self.renders = 0

    def get(self, key: Hashable, render: Callable[[], Rendered]) -> Rendered:
        """The cached feed for `key`, rendering it (outside the lock) on a miss."""
        with self._lock:
            found = self._cache.get(key)
        if found is None:
            found = render()
            with self._lock:
                self.renders += 1
                if len(found.body) + 512 <= self._cache.maxsize:
                    self._cache[key] = found
        return found


class VeventCache:
    """Serialised VEVENTs, per (item, content digest, alarms): building one with icalendar is
    most of a feed's render time, and most feeds share most events."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._cache: LRUCache[Hashable, bytes] = LRUCache(maxsize=max_bytes, getsizeof=len)
        self._lock = threading.Lock()
        self.builds = 0

    def get(self, entry: Entry, alarms: tuple[int, ...]) -> bytes:
        key = (entry.item.key, entry.digest, alarms)
        with self._lock:
            found = self._cache.get(key)
        if found is None:
            found = vevent_bytes(entry, alarms)
            with self._lock:
                self.builds += 1
                self._cache[key] = found
        return found
