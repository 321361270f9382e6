"""Steps of the wall clock (NTP fixing a wrong clock, an operator's `date -s`, a VM restored
from a snapshot), told apart from time passing.

The wall clock dates what is shared (the budget file, the snapshot) and what LL2 is asked;
a step moves it, and with it every stored time, by hours at once. The machine's own clock
since boot (`MachineClock`) does not step, so:

- `ClockWatch` names a step seen by this process (for the log and `/healthz`);
- `Pace` answers "how long ago" and "how long until" for the times a sync stored, on the
  steady clock for the ones this process wrote, and with times from the future clamped to
  now for the others (written before a step back, or by another process);
- the budget file carries the machine clock beside its stamps (see `budget`), so every
  process of the machine moves the stamps by a step it finds there.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

# A difference between the wall clock and the steady one smaller than this is slewing or
# rounding, not a step.
STEP_TOLERANCE_SECONDS = 2.0
# How long /healthz names a step after it was found: as long as the budget's window, the
# longest time a step can still move what is spent.
STEP_SHOWN_SECONDS = 3600.0
# Times a `Pace` remembers (a sync writes a few per run).
_PINNED = 512
_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ClockStep:
    """The wall clock jumped by `seconds` (negative: back), found at wall time `at`."""

    seconds: float
    at: float

    def reason(self) -> str:
        """The step in public words, for `/healthz`: "clock: stepped back 3 h 0 min"."""
        direction = "back" if self.seconds < 0 else "forward"
        size = abs(self.seconds)
        if size >= 3600:
            words = f"{int(size // 3600)} h {int(size % 3600 // 60)} min"
        elif size >= 60:
            words = f"{int(size // 60)} min"
        else:
            words = f"{math.ceil(size)} s"
        return f"clock: stepped {direction} {words}"

    def recent(self, now: float) -> bool:
        """Whether `/healthz` still names it (found less than an hour ago, or in the future
        of a clock stepped back since)."""
        return abs(now - self.at) < STEP_SHOWN_SECONDS


class Machine(Protocol):
    """A clock steps of the wall clock do not move, shared by the processes of one boot."""

    boot: str | None

    def now(self) -> float: ...


class MachineClock:
    """The time since this machine booted, suspend included: the same for every process of
    the machine, and never stepped. `boot` tells one boot from the next."""

    def __init__(self) -> None:
        try:
            self.boot: str | None = _BOOT_ID.read_text().strip() or None
        except OSError:
            self.boot = None

    def now(self) -> float:
        try:
            return time.clock_gettime(time.CLOCK_BOOTTIME)
        except (AttributeError, OSError):  # not Linux: monotonic, no boot id to trust
            self.boot = None
            return time.monotonic()


class ClockWatch:
    """Finds the steps of the wall clock within one process, by comparing it with a steady
    clock: while no step happens, the two advance together."""

    def __init__(
        self,
        wall: Callable[[], float] = time.time,
        steady: Callable[[], float] | None = None,
    ) -> None:
        self.wall = wall
        # The machine's clock since boot by default: a suspended machine is no step.
        self.steady = steady or MachineClock().now
        self._offset = wall() - self.steady()
        self._lock = threading.Lock()  # the sync thread and /healthz both check
        self.last: ClockStep | None = None

    def check(self) -> ClockStep | None:
        """A step since the last check (logged), or None."""
        with self._lock:
            wall = self.wall()
            offset = wall - self.steady()
            jump = offset - self._offset
            self._offset = offset
            if abs(jump) <= STEP_TOLERANCE_SECONDS:
                return None
            self.last = ClockStep(jump, wall)
        log.warning("the wall clock %s; the sync keeps its pace", self.last.reason()[7:])
        return self.last

    def recent(self) -> ClockStep | None:
        """The last step, while `/healthz` names it."""
        self.check()
        step = self.last
        return step if step is not None and step.recent(self.wall()) else None


class Pace:
    """How long ago, or how long until, a time a sync stored is, whatever the wall clock did.

    The times a sync run writes are its start (`start`) and that plus a delay (`pin`): for
    those this process knows where they fall on the steady clock. The others come from
    another process or from before a restart: they are taken as written, but never later
    than now (a time from the future means the clock stepped back since it was written).
    Without a `watch` (a simulated wall clock in tests) every time is taken as written,
    clamped the same way.
    """

    def __init__(self, watch: ClockWatch | None = None) -> None:
        self.watch = watch
        self._steady: dict[datetime, float] = {}  # stored time → the steady clock's

    def start(self, now: datetime) -> None:
        """A sync run begins at `now`; it writes `now` as the time of what it does."""
        if self.watch is not None:
            self.watch.check()
            self._remember(now, self.watch.steady())

    def pin(self, when: datetime, now: datetime) -> None:
        """The run begun at `now` stores `when` (a retry time): where it falls is known."""
        base = self._steady.get(now)
        if base is not None:
            self._remember(when, base + (when - now).total_seconds())

    def seen(
        self, when: datetime | None, now: datetime, ahead: timedelta = timedelta(0)
    ) -> datetime | None:
        """`when` moved onto the wall clock as it is at `now`: by the steady clock for a
        time this process stored; otherwise as written, but at most `ahead` after now."""
        if when is None:
            return None
        steady = self._steady.get(when)
        if steady is not None and self.watch is not None:
            moved = now + timedelta(seconds=steady - self.watch.steady())
            if abs((moved - when).total_seconds()) > STEP_TOLERANCE_SECONDS:
                return moved  # the wall clock stepped since `when` was written
        return min(when, now + ahead)

    def _remember(self, when: datetime, steady: float) -> None:
        self._steady[when] = steady
        while len(self._steady) > _PINNED:
            del self._steady[next(iter(self._steady))]
