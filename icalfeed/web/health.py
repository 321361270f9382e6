"""What `/healthz` says, from facts every process shares.

The sync's outcome per stream (last attempt and success, the passes failing now, the last
error, when the next attempt may go out) is recorded in the snapshot by whichever process
synced — a server, a follower's leader, a hand-run `icalfeed sync` — and the budget is the
shared one, so every process on the data dir or the Redis reports the same facts.

Status: `ok`; `degraded` (data served, but a sync pass is failing, storage has a problem,
the wall clock stepped in the last hour, or no synced data yet); `stale` (no successful
sync of a stream for longer than `ICALFEED_STALE_FACTOR` times its interval);
`unavailable` (nothing to serve, 503).

Whatever the disk, the lock files or Redis hold, the report is made (a problem reading
them is one more short reason in `last_error`), and no text in it names a server path, an
internal host or a credential: those are in the log.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from ..base.clockstep import ClockStep
from ..base.disclosure import hosts_of, public_text
from ..data.syncstate import SyncState
from ..feeds.asof import sample_times
from ..ll2.budget import WINDOW_SECONDS, BudgetStatus
from ..ll2.models import PLURAL, Event, Launch, utc_stamp
from .runtime import Runtime

log = logging.getLogger(__name__)
BUDGET_UNKNOWN = "budget: unavailable"
REPORT_INCOMPLETE = "internal: health report incomplete"


def safe_health_report(runtime: Runtime, now: datetime) -> tuple[dict[str, Any], int]:
    """`health_report`, or when making it fails (a bug), a short one that still says whether
    feeds can be served: never a 500 while they can."""
    try:
        return health_report(runtime, now)
    except Exception:
        log.exception("health report failed")
        snapshot = runtime.store.snapshot
        body = {
            "status": "degraded" if snapshot.entries else "unavailable",
            "source": snapshot.source,
            "events": snapshot.count(Event.kind),
            "launches": snapshot.count(Launch.kind),
            "last_error": REPORT_INCOMPLETE,
        }
        return body, 200 if snapshot.entries else 503


def health_report(runtime: Runtime, now: datetime) -> tuple[dict[str, Any], int]:
    """The `/healthz` document and its status code (200 while feeds can be served)."""
    settings, snapshot = runtime.settings, runtime.store.snapshot
    kinds = [Event.kind, *([Launch.kind] if settings.launches else [])]
    states = {kind: snapshot.sync(kind) for kind in (Event.kind, Launch.kind)}
    successes = [s.succeeded_at for s in states.values() if s.succeeded_at]
    last_sync = max(successes, default=None)
    synced = last_sync or snapshot.saved_at
    budget = budget_status(runtime)
    report = runtime.scheduler.last_report if runtime.scheduler else None
    stale = [kind for kind in kinds if _stale(runtime, states[kind], kind, now)]
    step = _clock_step(runtime, budget)
    last_error = _problems(runtime, budget, step)
    if not snapshot.entries:
        status = "unavailable"
    elif stale:
        status = "stale"
    elif last_error or snapshot.source != "snapshot":
        status = "degraded"
    else:
        status = "ok"
    body = {
        "status": status,
        "source": snapshot.source,
        # The packaged sample is shown as of when it was captured (per kind), not today.
        "sample_as_of": {PLURAL[k]: _iso(at) for k, at in sample_times(snapshot).items()} or None,
        "events": snapshot.count(Event.kind),
        "launches": snapshot.count(Launch.kind),
        "data_version": snapshot.version,
        "snapshot_age_seconds": max(0, round((now - synced).total_seconds())) if synced else None,
        "last_sync": _iso(last_sync),
        "last_error": last_error,
        "stale_streams": stale,
        "offline": settings.offline,
        "role": runtime.role,
        # A step of the wall clock found in the last hour: the sync keeps its pace and the
        # budget its hour, but times shown here may be off by it.
        "clock_step": (
            {"seconds": round(step.seconds), "found_at": _iso_ts(step.at)} if step else None
        ),
        # Every kind this service syncs has its history (per kind: `streams`).
        "backfill_complete": all(states[kind].backfill_complete for kind in kinds),
        "streams": {kind: _stream(runtime, state, kind, budget) for kind, state in states.items()},
        "last_sync_summary": _public(runtime, report.line()) if report else None,
        "budget": {
            "requests_per_hour": budget.limit,
            "used_last_hour": budget.used,
            "remaining": budget.remaining,
            "paused_until": _iso_ts(budget.paused_until),
            "next_request_at": _iso_ts(budget.next_request_at),
        },
    }
    return body, 503 if status == "unavailable" else 200


def budget_status(runtime: Runtime) -> BudgetStatus:
    """The shared budget's status; when even that fails, an hour used up (and why)."""
    try:
        return runtime.budget.status()
    except Exception as exc:  # a budget of another kind, or a bug: not a 500
        log.warning("budget status unavailable: %s", exc)
        limit = runtime.budget.limit
        next_at = time.time() + WINDOW_SECONDS
        return BudgetStatus(limit, limit, None, next_at, problem=BUDGET_UNKNOWN)


def _clock_step(runtime: Runtime, budget: BudgetStatus) -> ClockStep | None:
    """The last step of the wall clock found in the last hour: by this process, or by any
    process of the data dir (the budget file records it)."""
    steps = [s for s in (runtime.clock.recent(), budget.clock_step) if s is not None]
    return max(steps, key=lambda s: s.at, default=None)


def _problems(runtime: Runtime, budget: BudgetStatus, step: ClockStep | None) -> str | None:
    """Every problem now, in public words: failing passes, a crash, storage, the budget, a
    step of the clock."""
    found = [runtime.store.last_error, budget.problem, step.reason() if step else None]
    parts = [part for text in found if text for part in text.split("; ")]
    unique = list(dict.fromkeys(parts))  # the disk or Redis may say the same twice
    return _public(runtime, "; ".join(unique)) if unique else None


def _public(runtime: Runtime, text: str | None) -> str | None:
    """`text` as it may be published (see `disclosure.public_text`)."""
    if text is None:
        return None
    hosts = hosts_of(runtime.settings.upstream_url, runtime.settings.redis_url)
    return public_text(text, hosts)


def interval(runtime: Runtime, kind: str) -> timedelta:
    """How often a stream's changes are expected to be read."""
    s = runtime.settings
    minutes = s.launch_incremental_minutes if kind == Launch.kind else s.incremental_minutes
    return timedelta(minutes=minutes)


def _stale(runtime: Runtime, state: SyncState, kind: str, now: datetime) -> bool:
    """No success for `stale_factor` intervals (counted from the start of this process when
    there never was one, so a fresh start is not stale)."""
    if runtime.settings.offline:
        return False
    since = state.succeeded_at or runtime.started_at
    return now - since > interval(runtime, kind) * runtime.settings.stale_factor


def _stream(runtime: Runtime, state: SyncState, kind: str, budget: BudgetStatus) -> dict[str, Any]:
    retries = [h.retry_at for h in state.failing.values() if h.retry_at]
    due = (state.changes_at + interval(runtime, kind)) if state.changes_at else None
    planned = min(retries) if retries else due
    if planned is not None and budget.next_request_at != float("inf"):
        planned = max(planned, datetime.fromtimestamp(budget.next_request_at, UTC))
    return {
        "items": runtime.store.snapshot.count(kind),
        "last_sync": _iso(state.succeeded_at),
        "last_attempt": _iso(state.attempted_at),
        "last_error": _public(runtime, state.last_error),
        "last_error_at": _iso(state.last_error_at),
        "consecutive_failures": max((h.failures for h in state.failing.values()), default=0),
        "next_attempt": _iso(planned),
        "last_reconcile": _iso(state.reconciled_at),
        "last_changes": _iso(state.changes_at),
        "watermark": state.watermark,
        "backfill_complete": state.backfill_complete,
        # The history backfill, newest change first: how far down it has read, how many items
        # it read and how many LL2 says are left, and how far back it reaches (null: all).
        "history": {
            "complete": state.backfill_complete,
            "reached": state.history.stamp,
            "read": state.history_read,
            "left": state.history_left,
            "days": state.history_days,
            "last_page": _iso(state.history_at),
        },
        "last_audit": _iso(state.audited_at),
        # Passes failing now, each backing off alone: {"reconcile": {…}}.
        "failing": {
            name: {
                "error": _public(runtime, health.error),
                "failures": health.failures,
                "retry_at": _iso(health.retry_at),
            }
            for name, health in sorted(state.failing.items())
        },
    }


def _iso(value: datetime | None) -> str | None:
    return utc_stamp(value) if value else None


def _iso_ts(value: float | None) -> str | None:
    if value is None or value == float("inf"):
        return None
    return _iso(datetime.fromtimestamp(value, UTC))
