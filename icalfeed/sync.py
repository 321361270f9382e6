"""Keeping the snapshot in step with Launch Library 2 on a budget of ~12 requests an hour.

One sync does up to two passes, each only when due:

1. *Reconcile* the upcoming window (``/events/upcoming/``, usually one page): the events
   calendars care about most, and the only way to notice an event deleted upstream.
2. *Changes* (``/events/?ordering=last_updated&last_updated__gte=<watermark>``): from an
   empty watermark this is the backfill of the whole history, resumed hour after hour as the
   budget allows; afterwards the same query returns only what changed.

Every page is merged and saved as it arrives, so a failure or an empty budget midway keeps
everything fetched so far, and the snapshot is never replaced by a partial one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from .budget import Budget, RequestBudget
from .config import Settings
from .errors import UpstreamError
from .locks import file_lock
from .snapshot import MergeCounts, Snapshot
from .store import Store, utcnow
from .upstream import LL2Client, Page

# Longest pause between attempts after repeated failures.
MAX_BACKOFF_SECONDS = 3600.0
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """What a progress display shows after each page."""

    phase: str  # "upcoming" or "changes"
    pages: int
    events: int
    requests_left: int


@dataclass
class SyncReport:
    """The outcome of one sync, for the log line, the CLI and /healthz."""

    requests: int = 0
    pages: int = 0
    events_seen: int = 0
    skipped: int = 0
    counts: MergeCounts = field(default_factory=MergeCounts)
    seconds: float = 0.0
    error: str | None = None
    retry_at: float | None = None
    out_of_budget: bool = False
    not_run: str | None = None  # why nothing was attempted
    backfill_complete: bool = False
    requests_left: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None and self.not_run is None

    def line(self) -> str:
        """The one log line a sync leaves."""
        if self.not_run:
            return f"sync skipped: {self.not_run}"
        c = self.counts
        text = (
            f"sync {'failed' if self.error else 'done'}: {self.requests} requests, "
            f"{self.pages} pages, {self.events_seen} events "
            f"(+{c.added} added, ~{c.changed} changed, -{c.removed} removed, "
            f"{self.skipped} malformed skipped) in {self.seconds:.1f}s; "
            f"{self.requests_left} requests left this hour"
        )
        if self.out_of_budget:
            text += "; stopped at the hourly budget, resumes later"
        if not self.backfill_complete:
            text += "; history backfill still in progress"
        if self.error:
            text += f"; error: {self.error}"
        return text


class Syncer:
    """Runs syncs for one data dir; only one process at a time may (``sync.lock``)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        client: LL2Client,
        clock: Callable[[], datetime] = utcnow,
        progress: Callable[[SyncProgress], None] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.client = client
        self.clock = clock
        self.progress = progress
        self.lock_path = settings.data_dir / "sync.lock"

    def run(self, *, full: bool = False, force: bool = False) -> SyncReport:
        """One sync: the passes that are due (all of them with `force`); `full` re-reads the
        whole history instead of only the changes."""
        with file_lock(self.lock_path, blocking=False) as acquired:
            if not acquired:
                self.store.reload_if_changed()
                return SyncReport(not_run="another process is syncing this data dir")
            return self._run(full=full, force=force)

    def _run(self, *, full: bool, force: bool) -> SyncReport:
        started = time.monotonic()
        report = SyncReport()
        now = self.clock()
        base = self.store.synced_base()
        snap = base.with_sync(watermark=None, backfill_complete=False) if full else base
        requests_before = self.client.requests_made
        work = _Work(snap)
        try:
            if force or full or _due(snap.sync.reconciled_at, now, self.settings.reconcile_minutes):
                self._reconcile(work, report, now)
            changes_due = _due(work.snap.sync.changes_at, now, self.settings.incremental_minutes)
            if force or full or not work.snap.sync.backfill_complete or changes_due:
                self._changes(work, report, now)
        except UpstreamError as exc:
            report.error = f"{exc.reason}: {exc}"
            report.retry_at = exc.retry_at
        snap = work.snap
        report.requests = self.client.requests_made - requests_before
        if report.pages:
            snap = snap.with_sync(succeeded_at=now)
        snap = snap.prune(now)
        if snap.version != base.version or snap.sync != base.sync:
            self.store.commit(snap)
        if report.requests or report.error:
            # A run that asked nothing (nothing due, paused) learnt nothing new.
            self.store.sync_error = report.error
        report.backfill_complete = snap.sync.backfill_complete
        report.requests_left = self.client.budget.status().remaining
        report.seconds = time.monotonic() - started
        if report.requests == 0 and report.error is None and not report.out_of_budget:
            report.not_run = "nothing due yet"
        (log.warning if report.error else log.info)(report.line())
        return report

    def _reconcile(self, work: _Work, report: SyncReport, now: datetime) -> None:
        seen: set[int] = set()
        last: Page | None = None
        for page in self.client.pages("events/upcoming/", {"mode": "detailed"}):
            self._absorb(work, page, report, now, "upcoming")
            seen.update(event.id for event, _ in page.parsed.events)
            seen.update(page.parsed.unparsed_ids)
            last = page
        if last is None or last.next_url is not None:
            report.out_of_budget = True
            return
        candidate, counts = work.snap.mark_missing(seen, now)
        upcoming = sum(
            1 for e in work.snap.entries.values() if e.removed_at is None and e.event.start > now
        )
        if counts.removed and (not seen or counts.removed > max(3, upcoming // 2)):
            # One glitchy answer must not cancel a calendar's worth of events.
            log.warning(
                "upcoming window lists %d events and would remove %d of %d; not believed",
                len(seen),
                counts.removed,
                upcoming,
            )
        else:
            work.snap = candidate
            report.counts += counts
        work.snap = work.snap.with_sync(reconciled_at=now)

    def _changes(self, work: _Work, report: SyncReport, now: datetime) -> None:
        params: dict[str, str | int] = {"mode": "detailed", "ordering": "last_updated"}
        if work.snap.sync.watermark:
            params["last_updated__gte"] = work.snap.sync.watermark
        last: Page | None = None
        for page in self.client.pages("events/", params):
            self._absorb(work, page, report, now, "changes")
            stamps = [e.last_updated for e, _ in page.parsed.events if e.last_updated]
            if stamps:
                newest = max(stamps).strftime("%Y-%m-%dT%H:%M:%SZ")
                if work.snap.sync.watermark is None or newest > work.snap.sync.watermark:
                    work.snap = work.snap.with_sync(watermark=newest)
            # Saved page by page: a backfill interrupted here resumes from this watermark.
            self.store.commit(work.snap)
            last = page
        if last is None or last.next_url is not None:
            report.out_of_budget = True
            return
        work.snap = work.snap.with_sync(backfill_complete=True, changes_at=now)

    def _absorb(
        self, work: _Work, page: Page, report: SyncReport, now: datetime, phase: str
    ) -> None:
        work.snap, counts = work.snap.merge(page.parsed.events, now)
        report.pages += 1
        report.events_seen += len(page.parsed.events)
        report.skipped += page.parsed.skipped
        report.counts += counts
        if page.parsed.skipped:
            log.warning("%d malformed events skipped in %s", page.parsed.skipped, page.url)
        if self.progress:
            left = self.client.budget.status().remaining
            self.progress(SyncProgress(phase, report.pages, report.events_seen, left))


@dataclass
class _Work:
    """The snapshot a sync is building; passes update it page by page, so whatever they
    merged before a failure is still here when the failure surfaces."""

    snap: Snapshot


def _due(last: datetime | None, now: datetime, minutes: int) -> bool:
    return last is None or now - last >= timedelta(minutes=minutes)


class SyncScheduler:
    """Background thread of a server: syncs when due, backs off after failures, and picks up
    snapshots another process wrote to the same data dir."""

    def __init__(
        self,
        syncer: Syncer,
        tick_seconds: float,
        after_run: Callable[[], object] | None = None,
        lease: Lease | None = None,
    ) -> None:
        self.syncer = syncer
        self.tick = tick_seconds
        self.after_run = after_run
        self.lease = lease
        self.failures = 0
        self.last_report: SyncReport | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="icalfeed-sync", daemon=True)

    def start(self) -> None:
        if self.lease is not None:
            self.lease.start_heartbeat()
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        if self.lease is not None:
            self.lease.release()

    def next_delay(self) -> float:
        """Seconds until the next attempt: the tick, doubled per consecutive failure."""
        delay = self.tick * (2 ** min(self.failures, 12))
        report = self.last_report
        if report and report.retry_at:
            delay = max(delay, report.retry_at - self.syncer.client.clock())
        return min(max(delay, 1.0), max(MAX_BACKOFF_SECONDS, self.tick))

    def run_once(self) -> SyncReport:
        """One scheduler step; never raises, so the thread never dies."""
        try:
            if self.lease is not None and not self.lease.hold():
                # Another instance leads: follow the snapshot it shares.
                self.syncer.store.reload_if_changed()
                report = SyncReport(not_run="another instance is the leader")
            else:
                self.syncer.store.republish_if_missing()
                report = self.syncer.run()
        except Exception as exc:  # a bug must not stop syncing for the life of the server
            log.exception("sync crashed")
            report = SyncReport(error=f"internal: {exc!r}")
            self.syncer.store.sync_error = report.error
        self.failures = self.failures + 1 if report.error else 0
        self.last_report = report
        if self.after_run is not None:
            try:
                self.after_run()
            except Exception:
                log.exception("after-sync hook failed")
        return report

    def _loop(self) -> None:
        self.run_once()
        while not self._stop.wait(self.next_delay()):
            self.run_once()


def build_syncer(
    settings: Settings,
    store: Store,
    progress: Callable[[SyncProgress], None] | None = None,
    budget: Budget | None = None,
) -> Syncer:
    """The syncer for these settings, with its client and the shared budget."""
    budget = budget or RequestBudget(settings.data_dir, settings.requests_per_hour)
    return Syncer(settings, store, LL2Client(settings, budget), progress=progress)


class Lease(Protocol):
    """Leadership among instances (see `redisstate.RedisLease`)."""

    held: bool

    def hold(self) -> bool: ...
    def start_heartbeat(self) -> None: ...
    def release(self) -> None: ...
