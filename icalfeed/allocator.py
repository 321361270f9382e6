"""Telling glibc's allocator to give large buffers back, so a server's memory stays near
what it holds rather than near the most it ever held.

A feed body of 10,000 items is a few MiB, its gzip copy another, and eight server threads
each make such temporaries.  By default glibc serves them from per-thread arenas it keeps
once grown (measured at LL2's size: 330 MiB after 10,000 mixed requests, of which about
130 MiB are live objects).  Blocks of 128 KiB and more taken by `mmap` go back to the system
when freed, and two arenas instead of one per thread leave less unused space behind
(measured: 230 MiB).  Elsewhere (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

# From glibc's <malloc.h>.
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD_BYTES = 128 * 1024
ARENAS = 2
log = logging.getLogger(__name__)


def return_large_buffers() -> bool:
    """Applies the settings above when the C library is glibc; whether it did."""
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(M_ARENA_MAX, ARENAS)
    )
    log.debug("allocator tuned: %s", done)
    return done
