"""The upstream request budget, persisted in the data dir and shared by every process.

A sliding one-hour window of request times plus an optional pause (after a 429).  Every
read-modify-write happens under a file lock, so two servers on one data dir, or a server and
an ``icalfeed sync``, can never spend more than the ceiling together, across restarts too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..base.disclosure import storage_reason
from ..base.locks import DataDirError, file_lock

WINDOW_SECONDS = 3600.0
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    limit: int
    used: int
    paused_until: float | None
    next_request_at: float  # Unix time when a request may be made (now when possible)
    stamps: tuple[float, ...] = ()  # when the requests of the last hour went out
    # Why these facts may be off, in public words ("storage: read-only", "shared store: bad
    # value"); None when they were read as they should be.
    problem: str | None = None

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


def next_request_time(
    stamps: list[float], limit: int, paused_until: float | None, now: float
) -> float:
    """When one more request fits: now, or when the oldest stamp that must leave the window
    has left it, or when a pause ends (whichever is later). Never, for a limit of 0."""
    next_at = now
    if len(stamps) >= limit:
        next_at = stamps[len(stamps) - limit] + WINDOW_SECONDS if limit > 0 else float("inf")
    if paused_until and paused_until > next_at:
        next_at = paused_until
    return next_at


def spare_requests(status: BudgetStatus, planned: list[float], now: float) -> int:
    """How many requests may go at `now` and still leave room under the ceiling for one at
    each of the `planned` times of the coming hour, in the sliding hour ending at each."""
    if status.paused_until:
        return 0
    times = sorted(t for t in planned if t < now + WINDOW_SECONDS)
    room = status.remaining
    for position, at in enumerate(times):
        since = at - WINDOW_SECONDS
        taken = sum(1 for s in status.stamps if s > since)
        taken += sum(1 for earlier in times[:position] if earlier > since)
        room = min(room, status.limit - taken - 1)
    return max(0, room)


class Budget(Protocol):
    """What spends upstream requests: this file-based budget, or the Redis one."""

    limit: int

    def try_spend(self) -> bool: ...
    # Give back the request this thread spent last: it never left this machine (see
    # `upstream.never_sent`). Only that one goes, so every request sent still counts.
    def refund(self) -> None: ...
    def pause_until(self, until: float) -> None: ...
    def status(self) -> BudgetStatus: ...


class RequestBudget:
    """At most `limit` requests in any hour, shared through ``<data_dir>/budget.json``."""

    def __init__(self, data_dir: Path, limit: int, clock: Callable[[], float] = time.time) -> None:
        self.path = data_dir / "budget.json"
        self.lock_path = data_dir / "budget.lock"
        self.limit = limit
        self.clock = clock
        self._spent = threading.local()  # .stamp: this thread's last request, to refund

    def try_spend(self) -> bool:
        """Record one request and return True, or return False when the budget forbids it."""
        with file_lock(self.lock_path):
            stamps, paused_until = self._read()
            now = self.clock()
            if (paused_until and paused_until > now) or len(stamps) >= self.limit:
                return False
            stamps.append(now)
            self._write(stamps, paused_until)
            self._spent.stamp = now
            return True

    def refund(self) -> None:
        """Remove the stamp of this thread's last request (once); a data dir that refuses
        keeps it, which only errs on the safe side."""
        stamp, self._spent.stamp = getattr(self._spent, "stamp", None), None
        if stamp is None:
            return
        try:
            with file_lock(self.lock_path):
                stamps, paused_until = self._read()
                if stamp in stamps:
                    stamps.remove(stamp)
                    self._write(stamps, paused_until)
        except DataDirError as exc:
            log.warning("could not give back a request that was never sent: %s", exc)

    def pause_until(self, until: float) -> None:
        """Spend nothing before `until` (the upstream said so with a 429). A data dir that
        refuses the lock is logged, not raised (as with Redis): it refuses spending too."""
        try:
            with file_lock(self.lock_path):
                stamps, paused_until = self._read()
                self._write(stamps, max(until, paused_until or 0.0))
        except DataDirError as exc:
            log.warning("could not record the upstream's pause: %s", exc)

    def status(self) -> BudgetStatus:
        """How much is spent and when the next request may go out; never raises. Without the
        lock (a read-only data dir) the file is read as it is, and `problem` says why."""
        problem = None
        try:
            with file_lock(self.lock_path):
                stamps, paused_until = self._read()
        except DataDirError as exc:
            problem = str(exc)
            stamps, paused_until = self._read()
        now = self.clock()
        next_at = next_request_time(stamps, self.limit, paused_until, now)
        active_pause = paused_until if paused_until and paused_until > now else None
        return BudgetStatus(self.limit, len(stamps), active_pause, next_at, tuple(stamps), problem)

    def _read(self) -> tuple[list[float], float | None]:
        try:
            data = json.loads(self.path.read_text())
            stamps = [float(s) for s in data.get("requests", [])]
            paused = data.get("paused_until")
            paused_until = float(paused) if paused is not None else None
        except FileNotFoundError:
            return [], None
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            # A damaged budget file must not let us overspend: assume the hour is used up.
            log.warning("budget file %s unreadable (%s); assuming a full hour", self.path, exc)
            now = self.clock()
            return [now] * self.limit, None
        now = self.clock()
        # Stamps in the future (clock moved back) still count, so the ceiling holds.
        return sorted(s for s in stamps if s > now - WINDOW_SECONDS), paused_until

    def _write(self, stamps: list[float], paused_until: float | None) -> None:
        """Replace the file atomically; `DataDirError` when the data dir refuses."""
        tmp = self.path.with_name(f".budget.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps({"requests": stamps, "paused_until": paused_until}))
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            log.warning("cannot write the budget file %s: %s", self.path, exc.strerror or exc)
            raise DataDirError(exc.errno, storage_reason(exc)) from exc
