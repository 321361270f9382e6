"""Rendered feeds, kept per (format, query, data version, day) so a popular feed renders once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from cachetools import LRUCache

from .output import Rendered


class FeedCache:
    """A thread-safe LRU of rendered feeds; a new data version simply misses."""

    def __init__(self, maxsize: int = 256) -> None:
        self._cache: LRUCache[Hashable, Rendered] = LRUCache(maxsize=maxsize)
        self._lock = threading.Lock()
        self.renders = 0

    def get(self, key: Hashable, render: Callable[[], Rendered]) -> Rendered:
        """The cached feed for `key`, rendering it (outside the lock) on a miss."""
        with self._lock:
            found = self._cache.get(key)
        if found is None:
            found = render()
            with self._lock:
                self._cache[key] = found
                self.renders += 1
        return found
