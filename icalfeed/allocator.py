"""Telling glibc's allocator to give the largest buffers back, so a server's memory stays
near what it holds rather than near the most it ever held.

A feed body of 10,000 items is a few MiB, its gzip copy another, and eight server threads
each make such temporaries.  By default glibc raises its mapping threshold after the first
such buffer is freed and from then on serves them from its arenas, which keep the space
(measured at LL2's size: 330 MiB after 10,000 mixed requests, of which about 130 MiB are
live objects).  Buffers of 1 MiB and more taken as mappings go back to the system when
freed.  The trim threshold is set with it (setting one fixes both): high enough that the
heap is not shrunk and grown again around every smaller feed (with 128 KiB mappings and the
default trim, cached feeds of 272 KiB were served at half the rate).  Elsewhere than glibc
this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util

# From glibc's <malloc.h>.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 1024 * 1024
TRIM_THRESHOLD_BYTES = 32 * 1024 * 1024


def return_large_buffers() -> bool:
    """Applies the thresholds above when the C library is glibc; whether it did."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    trim = bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
    return trim and bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
