"""What `/healthz` says, from facts every process shares.

The sync's outcome per stream (last attempt and success, the passes failing now, the last
error, when the next attempt may go out) is recorded in the snapshot by whichever process
synced — a server, a follower's leader, a hand-run `icalfeed sync` — and the budget is the
shared one, so every process on the data dir or the Redis reports the same facts.

Status: `ok`; `degraded` (data served, but a sync pass is failing, storage has a problem,
or no synced data yet); `stale` (no successful sync of a stream for longer than
`ICALFEED_STALE_FACTOR` times its interval); `unavailable` (nothing to serve, 503).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from .budget import BudgetStatus
from .models import Event, Launch
from .runtime import Runtime
from .snapshot import SyncState


def health_report(runtime: Runtime, now: datetime) -> tuple[dict[str, Any], int]:
    """The `/healthz` document and its status code (200 while feeds can be served)."""
    settings, snapshot = runtime.settings, runtime.store.snapshot
    kinds = [Event.kind, *([Launch.kind] if settings.launches else [])]
    states = {kind: snapshot.sync(kind) for kind in (Event.kind, Launch.kind)}
    successes = [s.succeeded_at for s in states.values() if s.succeeded_at]
    last_sync = max(successes, default=None)
    synced = last_sync or snapshot.saved_at
    budget = runtime.budget.status()
    report = runtime.scheduler.last_report if runtime.scheduler else None
    stale = [kind for kind in kinds if _stale(runtime, states[kind], kind, now)]
    if not snapshot.entries:
        status = "unavailable"
    elif stale:
        status = "stale"
    elif runtime.store.last_error or snapshot.source != "snapshot":
        status = "degraded"
    else:
        status = "ok"
    body = {
        "status": status,
        "source": snapshot.source,
        "events": snapshot.count(Event.kind),
        "launches": snapshot.count(Launch.kind),
        "data_version": snapshot.version,
        "snapshot_age_seconds": round((now - synced).total_seconds()) if synced else None,
        "last_sync": _iso(last_sync),
        "last_error": runtime.store.last_error,
        "stale_streams": stale,
        "offline": settings.offline,
        "role": runtime.role,
        # Every kind this service syncs has its history (per kind: `streams`).
        "backfill_complete": all(states[kind].backfill_complete for kind in kinds),
        "streams": {kind: _stream(runtime, state, kind, budget) for kind, state in states.items()},
        "last_sync_summary": report.line() if report else None,
        "budget": {
            "requests_per_hour": budget.limit,
            "used_last_hour": budget.used,
            "remaining": budget.remaining,
            "paused_until": _iso_ts(budget.paused_until),
            "next_request_at": _iso_ts(budget.next_request_at),
        },
    }
    return body, 503 if status == "unavailable" else 200


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
        "last_error": state.last_error,
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
                "error": health.error,
                "failures": health.failures,
                "retry_at": _iso(health.retry_at),
            }
            for name, health in sorted(state.failing.items())
        },
    }


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _iso_ts(value: float | None) -> str | None:
    if value is None or value == float("inf"):
        return None
    return _iso(datetime.fromtimestamp(value, UTC))
