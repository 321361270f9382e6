"""When a leader gives the Redis lease up so another instance can try: leadership follows
reachability (#31).

The leader steps down

- after a sync in which every pass it tried found no route to LL2 (nothing reached it, or
  no answer came back in time: `errors.UNANSWERED`): its own route may be what is broken,
  and another instance's may not be;
- after `STEP_DOWN_AFTER` syncs in a row in which every pass it tried failed, whatever the
  failure (syncs that tried nothing, every pass backing off or not due, do not count, nor
  do they reset the count: the passes back off on their own schedules).

Running out of budget is no failure. A leader that stepped down stays out `STEP_DOWN_LEASES`
lease periods (doubling with each step-down in a row, at most an hour), so another instance
has a fair try first: the others hear of the release at once (`redisstate.RELEASED`), and
the new leader tries again at once the passes that found no route (`Syncer._may_run`).
"""

from __future__ import annotations

from ..base.errors import unanswered
from .report import SyncReport

STEP_DOWN_AFTER = 2
STEP_DOWN_LEASES = 2
MAX_STEP_DOWN_SECONDS = 3600.0


def tried(report: SyncReport) -> bool:
    """Whether the sync asked anything of LL2, or failed (a sync with nothing due did not)."""
    return report.error is not None or report.requests > 0


def failed_entirely(report: SyncReport) -> bool:
    """Every pass the sync tried failed (or it crashed)."""
    return report.error is not None and not report.passes_ok


def unreached(report: SyncReport) -> bool:
    """Every pass the sync tried failed without an answer from LL2."""
    return bool(report.errors) and not report.passes_ok and all(map(unanswered, report.errors))


class Standing:
    """One instance's record as a leader: syncs failed in a row, step-downs in a row."""

    def __init__(self) -> None:
        self.failures = 0  # syncs in a row in which every pass tried failed
        self.step_downs = 0

    def record(self, report: SyncReport) -> None:
        """Count a sync (one that tried nothing changes nothing)."""
        if tried(report):
            self.failures = self.failures + 1 if failed_entirely(report) else 0
        if report.passes_ok:
            self.step_downs = 0

    def step_down_for(self, report: SyncReport, lease_seconds: float) -> tuple[float, str] | None:
        """After the leader's sync `report`: how long to stay out, and why, when it should
        step down; None when it keeps the lead."""
        if unreached(report):
            why = "no route to LL2 in this sync"
        elif self.failures >= STEP_DOWN_AFTER:
            why = f"{self.failures} syncs in a row failed"
        else:
            return None
        self.step_downs += 1
        self.failures = 0  # as a follower it only reads the shared snapshot
        pause = STEP_DOWN_LEASES * lease_seconds * 2 ** min(self.step_downs - 1, 12)
        return min(pause, MAX_STEP_DOWN_SECONDS), why
