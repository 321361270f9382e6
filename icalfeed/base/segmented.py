"""A byte-bounded LRU in two segments, so one-off keys cannot evict the hot ones.

A new key enters the small *probation* segment; only a second use promotes it to the large
*protected* segment (a segmented LRU). A flood of unique URLs churns probation alone, while
the feeds calendar servers poll all day stay in protected. Thread-safe.

What an entry costs is what it holds: its value's size and its key's (`footprint`), so a
flood of long keys with small answers is bounded by bytes like anything else.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import LRUCache

V = TypeVar("V")
# What a Python object costs beyond its characters (object header, dict slot, tuple slot).
OBJECT_BYTES = 64
# Share of the bytes that new keys may take before they prove themselves.
PROBATION_SHARE = 0.125


def footprint(key: Hashable) -> int:
    """About what a key holds in memory: its text and bytes, and an overhead per object."""
    if isinstance(key, str | bytes):
        return OBJECT_BYTES + len(key)
    if isinstance(key, tuple | frozenset):
        return OBJECT_BYTES + sum(footprint(part) for part in key)
    return OBJECT_BYTES


class _Held(Generic[V]):
    """A value with what it costs, key included."""

    __slots__ = ("size", "value")

    def __init__(self, value: V, size: int) -> None:
        self.value = value
        self.size = size


def _held_size(held: _Held[V]) -> int:
    return held.size


class SegmentedCache(Generic[V]):
    def __init__(self, max_bytes: int, size: Callable[[V], int]) -> None:
        probation = max(1, int(max_bytes * PROBATION_SHARE))
        self._probation: LRUCache[Hashable, _Held[V]] = LRUCache(
            maxsize=probation, getsizeof=_held_size
        )
        self._protected: LRUCache[Hashable, _Held[V]] = LRUCache(
            maxsize=max(1, max_bytes - probation), getsizeof=_held_size
        )
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._protected.get(key)
            if found is not None:
                return found.value
            found = self._probation.pop(key, None)
            if found is None:
                return None
            if found.size <= self._protected.maxsize:
                self._protected[key] = found  # seen twice: it earns its place
            return found.value

    def put(self, key: Hashable, value: V) -> None:
        held = _Held(value, self._size(value) + footprint(key))
        with self._lock:
            if key in self._protected:
                self._protected[key] = held
            elif held.size <= self._probation.maxsize:
                self._probation[key] = held
            elif held.size <= self._protected.maxsize:
                # Too big to wait in probation (a full-history feed): straight in.
                self._protected[key] = held

    @property
    def held_bytes(self) -> int:
        """What the entries cost in all, keys included."""
        with self._lock:
            return int(self._protected.currsize + self._probation.currsize)

    def __len__(self) -> int:
        with self._lock:
            return len(self._protected) + len(self._probation)
