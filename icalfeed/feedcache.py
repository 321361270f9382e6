"""Rendered feeds, kept per (query, data version, day) so a popular feed renders once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from cachetools import LRUCache


class FeedCache:
    """A thread-safe LRU of rendered bodies; a new data version simply misses."""

    def __init__(self, maxsize: int = 256) -> None:
        self._cache: LRUCache[Hashable, bytes] = LRUCache(maxsize=maxsize)
        self._lock = threading.Lock()
        self.renders = 0

    def get(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        """The cached body for `key`, rendering it (outside the lock) on a miss."""
        with self._lock:
            body = self._cache.get(key)
        if body is None:
            body = render()
            with self._lock:
                self._cache[key] = body
                self.renders += 1
        return body
