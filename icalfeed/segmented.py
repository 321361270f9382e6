"""A byte-bounded LRU in two segments, so one-off keys cannot evict the hot ones.

A new key enters the small *probation* segment; only a second use promotes it to the large
*protected* segment (a segmented LRU). A flood of unique URLs churns probation alone, while
the feeds calendar servers poll all day stay in protected. Thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import LRUCache

V = TypeVar("V")
# Share of the bytes that new keys may take before they prove themselves.
PROBATION_SHARE = 0.125


class SegmentedCache(Generic[V]):
    def __init__(self, max_bytes: int, size: Callable[[V], int]) -> None:
        probation = max(1, int(max_bytes * PROBATION_SHARE))
        self._probation: LRUCache[Hashable, V] = LRUCache(maxsize=probation, getsizeof=size)
        self._protected: LRUCache[Hashable, V] = LRUCache(
            maxsize=max(1, max_bytes - probation), getsizeof=size
        )
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._protected.get(key)
            if found is not None:
                return found
            found = self._probation.pop(key, None)
            if found is not None and self._size(found) <= self._protected.maxsize:
                self._protected[key] = found  # seen twice: it earns its place
            return found

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            if key in self._protected:
                self._protected[key] = value
            elif self._size(value) <= self._probation.maxsize:
                self._probation[key] = value
            elif self._size(value) <= self._protected.maxsize:
                # Too big to wait in probation (a full-history feed): straight in.
                self._protected[key] = value

    def __len__(self) -> int:
        with self._lock:
            return len(self._protected) + len(self._probation)
