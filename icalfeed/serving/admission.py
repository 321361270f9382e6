"""Admission of work the caches cannot answer, so a flood of new queries cannot starve the
subscribers whose feeds are cached.

Two gates, both cheap: each client has a token bucket of renders (a new query, a page);
over it the answer is ``429`` with ``Retry-After``. All clients together share one short
render lane: a render waits at most a moment for it, and only a few may wait; beyond that
the answer is ``503`` with ``Retry-After``. Cached answers pass neither gate, and the waiting
is bounded so most of the server's threads stay free for them.

Who the client is (the socket peer, or behind a trusted proxy the address it forwarded,
IPv6 clients by network) is `clients`' to say; budgets are kept under its key.
"""

from __future__ import annotations

import contextvars
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from cachetools import LRUCache

T = TypeVar("T")
# Clients whose buckets are remembered; a forgotten one starts full again.
MAX_CLIENTS = 100_000


class Refused(Exception):
    """Work not admitted: the HTTP status, how long to wait, and a one-line reason."""

    def __init__(self, status: int, retry_after: float, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = max(1, math.ceil(retry_after))


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class ClientBudgets:
    """A token bucket per client: `burst` renders at once, refilled at `per_minute`."""

    def __init__(
        self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(1, burst))
        self.clock = clock
        self._buckets: LRUCache[str, _Bucket] = LRUCache(maxsize=MAX_CLIENTS)
        self._lock = threading.Lock()

    def wait(self, client: str) -> float:
        """Seconds until `client` may render again (0: now), without spending anything."""
        with self._lock:
            bucket = self._refilled(client)
            return 0.0 if bucket.tokens >= 1 else self._until_one(bucket)

    def take(self, client: str) -> float:
        """Spend one render: 0 when admitted, else the seconds until one is available."""
        with self._lock:
            bucket = self._refilled(client)
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return self._until_one(bucket)

    def refund(self, client: str) -> None:
        """Give back a render that was not done (the lane refused it)."""
        with self._lock:
            bucket = self._buckets.get(client)
            if bucket is not None:
                bucket.tokens = min(self.burst, bucket.tokens + 1)

    def _refilled(self, client: str) -> _Bucket:
        now = self.clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            bucket = self._buckets[client] = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
        return bucket

    def _until_one(self, bucket: _Bucket) -> float:
        return (1 - bucket.tokens) / self.rate if self.rate > 0 else 3600.0


class RenderLane:
    """At most `lanes` renders at once; at most `queue` more wait, each for `wait` seconds."""

    def __init__(self, lanes: int, queue: int, wait: float) -> None:
        self._slots = threading.BoundedSemaphore(max(1, lanes))
        # Renders run on threads of their own: the large temporaries of a big feed then
        # stay in the allocator arenas of those few threads, not of every server thread.
        self._workers = ThreadPoolExecutor(max(1, lanes), thread_name_prefix="icalfeed-render")
        self._waiting = 0
        self._lock = threading.Lock()
        self.queue = max(0, queue)
        self.wait = wait

    def run(self, work: Callable[[], T]) -> T:
        if not self._slots.acquire(blocking=False):
            with self._lock:
                if self._waiting >= self.queue:
                    raise Refused(503, 1, "the server is busy rendering; try again shortly")
                self._waiting += 1
            try:
                admitted = self._slots.acquire(timeout=self.wait)
            finally:
                with self._lock:
                    self._waiting -= 1
            if not admitted:
                raise Refused(503, 2, "the server is busy rendering; try again shortly")
        try:
            context = contextvars.copy_context()  # the request's (Flask keeps it there)
            return self._workers.submit(context.run, work).result()
        finally:
            self._slots.release()


class Admission:
    """The two gates together (see the module docstring)."""

    def __init__(self, budgets: ClientBudgets, lane: RenderLane) -> None:
        self.budgets = budgets
        self.lane = lane
        self.refused = {429: 0, 503: 0}
        self._lock = threading.Lock()

    def run(self, client: str, work: Callable[[], T]) -> T:
        """Do `work` (a render) for `client`, or raise Refused."""
        wait = self.budgets.take(client)
        if wait:
            raise self._over_budget(wait)
        try:
            return self.lane.run(work)
        except Refused:
            self.budgets.refund(client)  # a busy server is not the client's doing
            self.count(503)
            raise

    def count(self, status: int) -> None:
        with self._lock:
            self.refused[status] += 1

    def early(self, client: str) -> Refused | None:
        """The refusal `client` would meet for any new render, without spending anything
        (the fast path asks before Flask sees the request); None when it may render."""
        wait = self.budgets.wait(client)
        return self._over_budget(wait) if wait else None

    def _over_budget(self, wait: float) -> Refused:
        self.count(429)
        return Refused(429, wait, OVER_BUDGET)


OVER_BUDGET = "too many new queries from your address; cached feeds stay available"


def refused_body(refused: Refused) -> bytes:
    """The one-line text answer, as every error of this service reads."""
    return f"{refused.status} {refused}; retry after {refused.retry_after} s\n".encode()


def refused_headers(refused: Refused) -> list[tuple[str, str]]:
    return [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Retry-After", str(refused.retry_after)),
        ("Cache-Control", "no-store"),
        ("Content-Length", str(len(refused_body(refused)))),
    ]
