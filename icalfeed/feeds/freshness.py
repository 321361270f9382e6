"""Last-Modified that is true for the bytes: when this service's answer to a query last
changed, never earlier than an answer it gave before for the same query, never later than
now.

The ETag hashes the body, so a client sending If-None-Match is always right. A client (or a
shared cache) that only sends If-Modified-Since relies on Last-Modified alone: it must move
whenever the bytes do, which the upstream stamps of the items shown cannot promise (an item
that leaves a filtered feed, a removal that is undone, items added with old stamps, a prune).
So the date comes from our side: the moment the data version that produced these bytes was
committed (or the day began, for the default window, or this process started, for a new
release that renders differently), and for a query answered before with other bytes, at
least a second after that answer's date.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from datetime import datetime, timedelta

from cachetools import LRUCache

from ..base.segmented import OBJECT_BYTES, footprint

# Bytes of remembered answers: each costs its key (the query, which may be long) and an
# ETag and a date. About 100,000 ordinary queries.
MAX_BYTES = 24 * 1024 * 1024
_SECOND = timedelta(seconds=1)


class AnswerDates:
    """The ETag and Last-Modified of the last answer to each query, by a key that names the
    query whatever its spelling (format, canonical query, cap)."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        # Values are (etag, date, what the entry costs with its key).
        self._last: LRUCache[Hashable, tuple[str, datetime, int]] = LRUCache(
            maxsize=max_bytes, getsizeof=lambda value: value[2]
        )
        self._lock = threading.Lock()

    def last_modified(
        self, key: Hashable, etag: str, changed: datetime, now: datetime
    ) -> datetime | None:
        """The Last-Modified of an answer with `etag`, whose data changed at `changed`; None
        while that date would be in the future (two answers in one second): the answer then
        goes without one, and If-Modified-Since cannot match it."""
        with self._lock:
            previous = self._last.get(key)
            if previous is not None and previous[0] == etag:
                moment = previous[1]
            else:
                # HTTP dates have whole seconds: round a change up, never down to before it.
                moment = changed + (_SECOND if changed.microsecond else timedelta())
                if previous is not None:
                    # Other bytes than the last answer: later than its date, or a client
                    # holding that answer would be told "not modified".
                    moment = max(moment, previous[1] + _SECOND)
                moment = moment.replace(microsecond=0)
                cost = footprint(key) + len(etag) + 3 * OBJECT_BYTES
                if cost <= self._last.maxsize:
                    self._last[key] = (etag, moment, cost)
            # Never after the response's Date.
            return moment if moment <= now else None
