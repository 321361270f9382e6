"""The upstream request budget, persisted in the data dir and shared by every process.

A sliding one-hour window of request times plus an optional pause (after a 429).  Every
read-modify-write happens under a file lock, so two servers on one data dir, or a server and
an ``icalfeed sync``, can never spend more than the ceiling together, across restarts too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..base.clockstep import STEP_TOLERANCE_SECONDS, ClockStep, Machine, MachineClock
from ..base.disclosure import storage_reason
from ..base.durable import replace_file
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
    # A step of the wall clock found in the last hour (see `clockstep`), or None.
    clock_step: ClockStep | None = None

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
    """At most `limit` requests in any hour, shared through ``<data_dir>/budget.json``.

    The file holds the request times (wall clock), a 429's pause, and where the machine's
    own clock stood when it was written (`clockstep.MachineClock`), so a process that finds
    the wall clock stepped since moves every time by the step (same boot only); times still
    in the future are counted as made now. A damaged file counts as a full hour spent at
    the moment the damage is found, and is rewritten at once, so syncing resumes an hour
    later. Every write is fsynced, file and folder (`durable.replace_file`).
    """

    def __init__(
        self,
        data_dir: Path,
        limit: int,
        clock: Callable[[], float] = time.time,
        machine: Machine | None = None,
    ) -> None:
        self.path = data_dir / "budget.json"
        self.lock_path = data_dir / "budget.lock"
        self.limit = limit
        self.clock = clock
        # With a simulated wall clock (tests) the steady one comes with it, or not at all.
        self.machine = machine if machine is not None or clock is not time.time else MachineClock()
        self._spent = threading.local()  # .stamp: this thread's last request, to refund

    def try_spend(self) -> bool:
        """Record one request and return True, or return False when the budget forbids it."""
        with file_lock(self.lock_path):
            ledger = self._read()
            now = self.clock()
            paused_until = ledger.paused_until
            if (paused_until and paused_until > now) or len(ledger.stamps) >= self.limit:
                if ledger.dirty:
                    self._write(ledger)
                return False
            ledger.stamps.append(now)
            self._write(ledger)
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
                ledger = self._read()
                if stamp in ledger.stamps:
                    ledger.stamps.remove(stamp)
                    self._write(ledger)
        except DataDirError as exc:
            log.warning("could not give back a request that was never sent: %s", exc)

    def pause_until(self, until: float) -> None:
        """Spend nothing before `until` (the upstream said so with a 429). A data dir that
        refuses the lock is logged, not raised (as with Redis): it refuses spending too."""
        try:
            with file_lock(self.lock_path):
                ledger = self._read()
                ledger.paused_until = max(until, ledger.paused_until or 0.0)
                self._write(ledger)
        except DataDirError as exc:
            log.warning("could not record the upstream's pause: %s", exc)

    def status(self) -> BudgetStatus:
        """How much is spent and when the next request may go out; never raises. Without the
        lock (a read-only data dir) the file is read as it is, and `problem` says why."""
        problem = None
        try:
            with file_lock(self.lock_path):
                ledger = self._read()
                if ledger.dirty:
                    with contextlib.suppress(DataDirError):  # it says so in the log
                        self._write(ledger)
        except DataDirError as exc:
            problem = str(exc)
            ledger = self._read()
        now = self.clock()
        stamps, paused_until = ledger.stamps, ledger.paused_until
        next_at = next_request_time(stamps, self.limit, paused_until, now)
        active_pause = paused_until if paused_until and paused_until > now else None
        step = ledger.step if ledger.step is not None and ledger.step.recent(now) else None
        return BudgetStatus(
            self.limit, len(stamps), active_pause, next_at, tuple(stamps), problem, step
        )

    def _read(self) -> _Ledger:
        now = self.clock()
        try:
            data = json.loads(self.path.read_text())
            stamps = [float(s) for s in data.get("requests", [])]
            paused = data.get("paused_until")
            paused_until = float(paused) if paused is not None else None
        except FileNotFoundError:
            return _Ledger([], None)
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            # Damaged (a crash mid-write on a disk that lost the unsynced bytes, a hand
            # edit): it must not let us overspend, nor stop the syncs for good. A full hour
            # from now, written down at once, so it ends an hour from now.
            log.warning(
                "budget file %s damaged (%s); counted as a full hour spent from now, rewritten",
                self.path,
                exc,
            )
            return _Ledger([now] * self.limit, None, dirty=True)
        ledger = _Ledger(stamps, paused_until, _step_from(data.get("clock_step")))
        jump = self._jump(data.get("clock"), now)
        if jump:
            # The wall clock stepped since the file was written: move the times with it.
            step = ClockStep(jump, now)
            log.warning("budget: the wall clock %s since its last write", step.reason()[7:])
            ledger = _Ledger(
                [s + jump for s in stamps],
                paused_until + jump if paused_until is not None else None,
                step,
                dirty=True,
            )
        return ledger.clamped(now)

    def _jump(self, anchor: object, now: float) -> float:
        """How far the wall clock stepped since `anchor` (the file's record of both clocks)
        was written: 0 when it did not, or when that cannot be told (another boot)."""
        machine = self.machine
        if machine is None or machine.boot is None or not isinstance(anchor, dict):
            return 0.0
        try:
            if anchor.get("boot") != machine.boot:
                return 0.0
            jump = (now - float(anchor["wall"])) - (machine.now() - float(anchor["steady"]))
        except (KeyError, TypeError, ValueError):
            return 0.0
        return jump if abs(jump) > STEP_TOLERANCE_SECONDS and math.isfinite(jump) else 0.0

    def _write(self, ledger: _Ledger) -> None:
        """Replace the file atomically and durably; `DataDirError` when the data dir refuses."""
        now = self.clock()
        data: dict[str, object] = {"requests": ledger.stamps, "paused_until": ledger.paused_until}
        if self.machine is not None and self.machine.boot is not None:
            data["clock"] = {"boot": self.machine.boot, "wall": now, "steady": self.machine.now()}
        if ledger.step is not None and ledger.step.recent(now):
            data["clock_step"] = {"seconds": ledger.step.seconds, "at": ledger.step.at}
        try:
            replace_file(self.path, json.dumps(data).encode())
        except OSError as exc:
            log.warning("cannot write the budget file %s: %s", self.path, exc.strerror or exc)
            raise DataDirError(exc.errno, storage_reason(exc)) from exc
        ledger.dirty = False


@dataclass(slots=True)
class _Ledger:
    """The budget file's content as read: request times, pause, the last clock step, and
    whether reading it changed it (damage repaired, times moved by a step)."""

    stamps: list[float]
    paused_until: float | None
    step: ClockStep | None = None
    dirty: bool = False

    def clamped(self, now: float) -> _Ledger:
        """Times from the future counted as now (a step back the file could not tell, from
        another boot or an older release); a pause at most an hour ahead; only the last
        hour's requests."""
        ahead = any(s > now for s in self.stamps)
        pause = self.paused_until
        if pause is not None and pause > now + WINDOW_SECONDS:
            pause, ahead = now + WINDOW_SECONDS, True
        stamps = sorted(min(s, now) for s in self.stamps if s > now - WINDOW_SECONDS)
        return _Ledger(stamps, pause, self.step, self.dirty or ahead)


def _step_from(raw: object) -> ClockStep | None:
    """The step a budget file records, if any (a damaged record is none)."""
    if not isinstance(raw, dict):
        return None
    try:
        return ClockStep(float(raw["seconds"]), float(raw["at"]))
    except (KeyError, TypeError, ValueError):
        return None
