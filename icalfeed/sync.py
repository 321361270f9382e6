"""Keeping the snapshot in step with Launch Library 2 on a budget of ~12 requests an hour.

Two kinds of item are synced the same way, each a `Stream` (events, launches), with its own
`SyncState` in the snapshot.  One sync does, for each stream, up to two passes, each only
when due:

1. *Reconcile* the upcoming window (``/events/upcoming/``, ``/launches/upcoming/`` up to a
   horizon; usually one page each): the items calendars care about most, and the only way
   to notice one deleted upstream.  An item the window no longer lists is asked after by
   id (one more request, only when something is missing): still there means it moved out
   of the window (a launch slipping past the horizon) and is updated; gone means deleted.
2. *Changes* (``/events/?ordering=last_updated&last_updated__gte=<watermark>``, the same on
   ``/launches/`` limited to recent and future launches): from an empty watermark this is the
   backfill, resumed hour after hour as the budget allows; afterwards only what changed.

All passes draw on one shared budget.  Reconciles go first, the stream waiting longest
first; the changes passes then split what is left, so one stream's long backfill cannot
starve the other.  Every page is merged and saved as it arrives, so a failure or an empty
budget midway keeps everything fetched so far, and the snapshot is never replaced by a
partial one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from .budget import Budget, RequestBudget
from .config import Settings
from .errors import UpstreamError
from .locks import file_lock
from .models import PLURAL, Event, Launch, ParsedPage, parse_events, parse_launches
from .snapshot import MergeCounts, Snapshot
from .store import Store, utcnow
from .upstream import LL2Client, Page

# Longest pause between attempts after repeated failures.
MAX_BACKOFF_SECONDS = 3600.0
# Items missing from an upcoming window asked after by id in one request (a short URL).
MAX_RECHECKED = 50
# How long an item LL2 still lists by id, but whose copy here stays stale, is not re-asked.
RECHECK_QUIET = timedelta(hours=24)
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Stream:
    """One kind of item and how it is read from LL2."""

    kind: str  # Event.kind or Launch.kind
    path: str  # the listing, "events/"; its upcoming window is path + "upcoming/"
    parse: Callable[[Iterable[Any]], ParsedPage]
    incremental_minutes: int
    # Only items dated this far back are synced (None: the whole history).
    history: timedelta | None = None
    # The reconcile reads the upcoming window this far ahead (None: all of it).
    horizon: timedelta | None = None

    def upcoming_params(self, now: datetime) -> dict[str, str | int]:
        params: dict[str, str | int] = {"mode": "detailed"}
        if self.horizon is not None:
            params["net__lte"] = _stamp(now + self.horizon)
        return params

    def changes_params(self, watermark: str | None, now: datetime) -> dict[str, str | int]:
        params: dict[str, str | int] = {"mode": "detailed", "ordering": "last_updated"}
        if self.history is not None:
            params["net__gte"] = _stamp(now - self.history)
        if watermark:
            params["last_updated__gte"] = watermark
        return params


def streams_for(settings: Settings) -> tuple[Stream, ...]:
    """The streams these settings sync: events always, launches unless switched off."""
    streams = [Stream(Event.kind, "events/", parse_events, settings.incremental_minutes)]
    if settings.launches:
        streams.append(
            Stream(
                Launch.kind,
                "launches/",
                parse_launches,
                settings.launch_incremental_minutes,
                history=timedelta(days=settings.launch_history_days),
                horizon=timedelta(days=settings.launch_horizon_days),
            )
        )
    return tuple(streams)


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """What a progress display shows after each page."""

    phase: str  # "upcoming events", "changed launches", …
    pages: int  # of this pass
    items: int  # of this pass
    requests_left: int


@dataclass
class SyncReport:
    """The outcome of one sync, for the log line, the CLI and /healthz."""

    requests: int = 0
    pages: int = 0
    events_seen: int = 0  # items of every kind
    seen: Counter[str] = field(default_factory=Counter)  # items per kind
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
            f"{self.pages} pages, {self.seen[Event.kind]} events, "
            f"{self.seen[Launch.kind]} launches "
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
        self.streams = streams_for(settings)
        # Keys LL2 still listed by id although they stay stale here, and when it said so.
        self._still_there: dict[str, datetime] = {}

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
        snap = base
        if full:
            for stream in self.streams:
                snap = snap.with_sync(stream.kind, watermark=None, backfill_complete=False)
        requests_before = self.client.requests_made
        work = _Work(snap)
        try:
            reconciles = [
                s
                for s in self.streams
                if force
                or full
                or _due(snap.sync(s.kind).reconciled_at, now, self.settings.reconcile_minutes)
            ]
            for stream in _longest_waiting(reconciles, work.snap, "reconciled_at"):
                self._reconcile(stream, work, report, now)
            changes = [
                s
                for s in self.streams
                if force
                or full
                or not work.snap.sync(s.kind).backfill_complete
                or _due(work.snap.sync(s.kind).changes_at, now, s.incremental_minutes)
            ]
            ordered = _longest_waiting(changes, work.snap, "changes_at")
            for position, stream in enumerate(ordered):
                # A fair share of what is left, so a long backfill cannot starve the rest.
                left = self.client.budget.status().remaining
                share = max(1, left // (len(ordered) - position))
                self._changes(stream, work, report, now, share)
        except UpstreamError as exc:
            report.error = f"{exc.reason}: {exc}"
            report.retry_at = exc.retry_at
        snap = work.snap
        report.requests = self.client.requests_made - requests_before
        snap = snap.prune(now)
        if snap.version != base.version or snap.streams != base.streams:
            self.store.commit(snap)
        if report.requests or report.error:
            # A run that asked nothing (nothing due, paused) learnt nothing new.
            self.store.sync_error = report.error
        report.backfill_complete = all(snap.sync(s.kind).backfill_complete for s in self.streams)
        report.requests_left = self.client.budget.status().remaining
        report.seconds = time.monotonic() - started
        if report.requests == 0 and report.error is None and not report.out_of_budget:
            report.not_run = "nothing due yet"
        (log.warning if report.error else log.info)(report.line())
        return report

    def _reconcile(self, stream: Stream, work: _Work, report: SyncReport, now: datetime) -> None:
        seen: set[str] = set()
        last: Page | None = None
        work.new_pass()
        params = stream.upcoming_params(now)
        for page in self.client.pages(stream.path + "upcoming/", params, stream.parse):
            self._absorb(stream, work, page, report, now, "upcoming")
            seen.update(item.key for item, _ in page.parsed.items)
            seen.update(page.parsed.unparsed_keys)
            last = page
        if last is None or last.next_url is not None:
            report.out_of_budget = True
            return
        until = now + stream.horizon if stream.horizon is not None else None
        missing = [
            key
            for key in work.snap.missing(stream.kind, seen, now, until)
            if key not in self._still_there or now - self._still_there[key] >= RECHECK_QUIET
        ]
        upcoming = sum(
            1
            for e in work.snap.entries.values()
            if e.kind == stream.kind
            and e.removed_at is None
            and e.item.start > now
            and (until is None or e.item.start <= until)
        )
        if missing and (not seen or len(missing) > max(3, upcoming // 2)):
            # One glitchy answer must not cancel a calendar's worth of items.
            log.warning(
                "upcoming %s: LL2 lists %d and we would remove %d of %d; not believed",
                PLURAL[stream.kind],
                len(seen),
                len(missing),
                upcoming,
            )
        elif missing:
            checked = missing[:MAX_RECHECKED]
            listed = self._still_listed(stream, work, report, now, checked)
            if listed is None:
                # No request left to tell a deletion from a move: nothing is removed, and the
                # next hourly reconcile asks again (retrying every minute would spend each
                # freed request on the window and never reach the recheck).
                report.out_of_budget = True
            else:
                work.snap, counts = work.snap.mark_removed(set(checked) - listed, now)
                report.counts += counts
                # Still listed by id yet still stale here (LL2 sent an older or unusable
                # copy): asking again every hour would change nothing, so wait a day.
                stale = set(work.snap.missing(stream.kind, seen, now, until)) & listed
                self._still_there.update(dict.fromkeys(stale, now))
        work.snap = work.snap.with_sync(stream.kind, reconciled_at=now)

    def _still_listed(
        self, stream: Stream, work: _Work, report: SyncReport, now: datetime, keys: list[str]
    ) -> set[str] | None:
        """Asks LL2 by id for items missing from the upcoming window. Those it still has were
        moved out of the window (a launch that slipped past the horizon, an event dated back
        into the past) and are merged as they are now; the rest were deleted. None when the
        budget has no request left."""
        wanted = set(keys)
        ids = ",".join(key.partition(":")[2] for key in keys)
        params = {"mode": "detailed", "id": ids}
        work.new_pass()
        listed: set[str] | None = None
        for page in self.client.pages(stream.path, params, stream.parse, max_pages=1):
            if page.next_url is not None or (page.count or 0) > len(keys):
                # More than was asked for: LL2 ignored the id filter, so absence proves
                # nothing. Remove nothing rather than everything.
                log.warning("LL2 ignored id= on %s; removals not checked", stream.path)
                return wanted
            items = tuple(pair for pair in page.parsed.items if pair[0].key in wanted)
            page = replace(page, parsed=replace(page.parsed, items=items))
            self._absorb(stream, work, page, report, now, "rechecked")
            listed = {item.key for item, _ in items} | (page.parsed.unparsed_keys & wanted)
        return listed

    def _changes(
        self, stream: Stream, work: _Work, report: SyncReport, now: datetime, max_pages: int
    ) -> None:
        params = stream.changes_params(work.snap.sync(stream.kind).watermark, now)
        last: Page | None = None
        work.new_pass()
        for page in self.client.pages(stream.path, params, stream.parse, max_pages):
            self._absorb(stream, work, page, report, now, "changed")
            stamps = [i.last_updated for i, _ in page.parsed.items if i.last_updated]
            if stamps:
                newest = _stamp(max(stamps))
                mark = work.snap.sync(stream.kind).watermark
                if mark is None or newest > mark:
                    work.snap = work.snap.with_sync(stream.kind, watermark=newest)
            # Saved page by page: a backfill interrupted here resumes from this watermark.
            self.store.commit(work.snap)
            last = page
        if last is None or last.next_url is not None:
            report.out_of_budget = True
            return
        work.snap = work.snap.with_sync(stream.kind, backfill_complete=True, changes_at=now)

    def _absorb(
        self,
        stream: Stream,
        work: _Work,
        page: Page,
        report: SyncReport,
        now: datetime,
        phase: str,
    ) -> None:
        snap, counts = work.snap.merge(page.parsed.items, now)
        work.snap = snap.with_sync(stream.kind, succeeded_at=now)
        report.pages += 1
        report.events_seen += len(page.parsed.items)
        report.seen[stream.kind] += len(page.parsed.items)
        work.pass_pages += 1
        work.pass_items += len(page.parsed.items)
        report.skipped += page.parsed.skipped
        report.counts += counts
        if page.parsed.skipped:
            log.warning(
                "%d malformed %s skipped in %s", page.parsed.skipped, PLURAL[stream.kind], page.url
            )
        if self.progress:
            left = self.client.budget.status().remaining
            label = f"{phase} {PLURAL[stream.kind]}"
            self.progress(SyncProgress(label, work.pass_pages, work.pass_items, left))


@dataclass
class _Work:
    """The snapshot a sync is building; passes update it page by page, so whatever they
    merged before a failure is still here when the failure surfaces."""

    snap: Snapshot
    pass_pages: int = 0
    pass_items: int = 0

    def new_pass(self) -> None:
        self.pass_pages = self.pass_items = 0


def _due(last: datetime | None, now: datetime, minutes: int) -> bool:
    return last is None or now - last >= timedelta(minutes=minutes)


def _longest_waiting(streams: list[Stream], snap: Snapshot, attribute: str) -> list[Stream]:
    """Never-done first, then the oldest; ties keep the configured order."""
    never = datetime.min.replace(tzinfo=None)

    def waited(stream: Stream) -> datetime:
        when = getattr(snap.sync(stream.kind), attribute)
        return when.replace(tzinfo=None) if when else never

    return sorted(streams, key=waited)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


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
