"""Keeping the snapshot in step with Launch Library 2 on a budget of ~12 requests an hour.

Two kinds of item are synced the same way, each a `Stream` (events, launches), with its own
`SyncState` in the snapshot.  One sync does, for each stream, up to two passes, each only
when due:

1. *Reconcile* the upcoming window (``/events/upcoming/``, ``/launches/upcoming/`` up to a
   horizon; usually one page each): the items calendars care about most, and the only way
   to notice one deleted upstream.  An item the window no longer lists is asked after by
   id (one more request, only when something is missing): still there means it moved out
   of the window (a launch slipping past the horizon) and is updated; gone means deleted.
2. *Changes* (``/events/?ordering=last_updated&last_updated__gte=<cursor>``, the same on
   ``/launches/``, capped by ``ICALFEED_LAUNCH_HISTORY_DAYS`` when set): what changed since
   the last pass, at each stream's cadence; on a new data dir, from the moment it began.
3. *History*, the backfill: everything stamped before that moment, walking down
   (``ordering=-last_updated&last_updated__lte=<cursor>``, the newest change first), paid
   only with requests the reconciles and changes passes due in the coming hour leave over
   (`_spare`), so it never delays them; an item edited meanwhile gets a new stamp and is
   read by the changes pass.  Resumed hour after hour until it reaches the bottom.
4. *Audit*, the safety net: one page at a time of the changes walk over the whole history,
   at most every ``ICALFEED_AUDIT_MINUTES`` and only with requests to spare, so whatever an
   LL2 glitch (or a bug of ours) left behind is repaired within a cycle.

How the changes and history passes page, so that no change is ever skipped: see `keyset`.

All passes draw on one shared budget, and each pass of each stream fails alone: it backs off
(1, 2, 4 … minutes, at most an hour) while the others go on.  Reconciles go first, the
stream waiting longest first; the changes passes then split what is left, so one stream's
long walk cannot starve the other; the histories and the audit take only spare requests
(with a budget too small for the cadence, never spare, the histories take turns with the
changes passes instead).  Every page is
merged and saved as it arrives, so a failure or an empty budget midway keeps everything
fetched so far, and the snapshot is never replaced by a partial one.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from ..base.clockstep import ClockWatch, Pace
from ..base.config import Settings
from ..base.disclosure import hosts_of, public_text
from ..base.errors import UpstreamError, unanswered
from ..base.locks import DataDirError, file_lock
from ..data.snapshot import Snapshot
from ..data.store import Store, utcnow
from ..data.syncstate import Cursor, PassHealth
from ..ll2.budget import Budget, RequestBudget, spare_requests
from ..ll2.models import PLURAL
from ..ll2.upstream import LL2Client, Page
from . import quietpass
from .due import due, due_times, longest_waiting, longest_waiting_passes
from .keyset import after_page, after_tie_page
from .reconcile import believe_removals
from .report import AUDIT, CHANGES, HISTORY, RECONCILE, SyncProgress, SyncReport
from .streams import Stream, parse_stamp, stamp, streams_for

# Longest pause between attempts after repeated failures.
# Items missing from an upcoming window asked after by id in one request (a short URL).
MAX_RECHECKED = 50
# How long an item LL2 still lists by id, but whose copy here stays stale, is not re-asked.
RECHECK_QUIET = timedelta(hours=24)
# The passes, by the names /healthz reports them under.
# One failing pass waits 1, 2, 4 … minutes before it is tried again, at most an hour.
PASS_BACKOFF = timedelta(minutes=1)
PASS_BACKOFF_CAP = timedelta(hours=1)
# The reads whose new items are news (the changes log): not the backfill, not the audit.
NEWS_PHASES = frozenset({"upcoming", "rechecked", "changed"})
log = logging.getLogger(__name__)


class Syncer:
    """Runs syncs for one data dir; only one process at a time may (``sync.lock``)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        client: LL2Client,
        clock: Callable[[], datetime] = utcnow,
        progress: Callable[[SyncProgress], None] | None = None,
        pace: Pace | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.client = client
        self.clock = clock
        self.progress = progress
        # Due times by the steady clock (a simulated wall clock: as stored; see `clockstep`).
        self.pace = pace or Pace(ClockWatch() if clock is utcnow else None)
        self.lock_path = settings.data_dir / "sync.lock"
        self.streams = streams_for(settings)
        # Set by the scheduler for the first sync of a new leader (see `_may_run`).
        self.retry_unanswered = False
        # Keys LL2 still listed by id although they stay stale here, and when it said so.
        self._still_there: dict[str, datetime] = {}

    def run(self, *, full: bool = False, force: bool = False) -> SyncReport:
        """One sync: the passes that are due (all of them with `force`); `full` re-reads the
        whole history instead of only the changes."""
        with contextlib.ExitStack() as held:
            try:
                acquired = held.enter_context(file_lock(self.lock_path, blocking=False))
            except DataDirError as exc:  # the data dir refuses its lock file: no sync
                report = SyncReport(error=str(exc))
                log.warning(report.line())
                return report
            if not acquired:
                self.store.reload_if_changed()
                return SyncReport(not_run="another process is syncing this data dir")
            return self._run(full=full, force=force)

    def _run(self, *, full: bool, force: bool) -> SyncReport:
        started = time.monotonic()
        report = SyncReport()
        now = self.clock()
        self.pace.start(now)
        base = self.store.synced_base()
        snap = base
        for stream in self.streams:
            snap = self._begin_history(stream, snap, now, restart=full)
        requests_before = self.client.requests_made
        work = _Work(snap)
        eager = force or full
        reconciles = [
            s
            for s in self.streams
            if self._may_run(s, RECONCILE, work.snap, now, eager)
            and (
                eager
                or self._due(snap.sync(s.kind).reconciled_at, now, self.settings.reconcile_minutes)
            )
        ]
        for stream in longest_waiting(reconciles, work.snap, "reconciled_at"):
            self._attempt(
                stream,
                RECONCILE,
                work,
                report,
                now,
                functools.partial(self._reconcile, stream, work, report, now),
            )
        changes = [
            s
            for s in self.streams
            if self._may_run(s, CHANGES, work.snap, now, eager)
            and (eager or self._due(work.snap.sync(s.kind).changes_at, now, s.incremental_minutes))
        ]
        passes = [(s, CHANGES) for s in changes]
        if not eager and self._budget_below_cadence():
            # No request will ever be spare: the histories take turns with the changes.
            passes += [(s, HISTORY) for s in self._histories_ready(work.snap, now, eager)]
        for position, (stream, name) in enumerate(longest_waiting_passes(passes, work.snap)):
            # A fair share of what is left, so one long walk cannot starve the rest.
            left = self.client.budget.status().remaining
            share = max(1, left // (len(passes) - position))
            walk = self._changes if name == CHANGES else self._history_pages
            action = functools.partial(walk, stream, work, report, now, share)
            self._attempt(stream, name, work, report, now, action)
        self._history(work, report, now, eager)
        self._audit(work, report, now)
        report.error = "; ".join(report.errors) or None
        snap = work.snap
        report.requests = self.client.requests_made - requests_before
        snap = snap.prune(now)
        if snap.version != base.version or snap.streams != base.streams:
            self.store.commit(snap)
        report.backfill_complete = all(snap.sync(s.kind).backfill_complete for s in self.streams)
        lefts = [snap.sync(s.kind).history_left for s in self.streams]
        if not report.backfill_complete and all(n is not None for n in lefts):
            report.history_left = sum(n or 0 for n in lefts)
        report.requests_left = self.client.budget.status().remaining
        report.seconds = time.monotonic() - started
        if report.requests == 0 and report.error is None and not report.out_of_budget:
            report.not_run = "nothing due yet"
        (log.warning if report.error else log.info)(report.line())
        return report

    def _begin_history(
        self, stream: Stream, snap: Snapshot, now: datetime, *, restart: bool
    ) -> Snapshot:
        """Starts the history backfill of a stream that has none reaching back as far as the
        settings ask (a new data dir, a longer ICALFEED_LAUNCH_HISTORY_DAYS, `--full`): it
        walks down from now, and a changes pass that has not begun reads up from here."""
        state = snap.sync(stream.kind)
        if not restart and state.history_covers(stream.history_days):
            return snap
        changes = state.changes
        if changes.stamp is None and not changes.done:
            # Edits stamped a little before now may become visible late: the overlap.
            overlap = timedelta(minutes=self.settings.sync_overlap_minutes)
            changes = Cursor(stamp(now - overlap))
        return snap.with_sync(
            stream.kind,
            changes=changes,
            history=Cursor(stamp(now)),
            history_days=stream.history_days,
            history_read=0,
            history_left=None,
            backfill_complete=False,
        )

    def _may_run(
        self, stream: Stream, name: str, snap: Snapshot, now: datetime, eager: bool
    ) -> bool:
        """False while this pass of this stream backs off after failing (unless forced, or
        a new leader tries again what found no route to LL2: the route was perhaps only
        another instance's)."""
        health = snap.sync(stream.kind).health(name)
        if self.retry_unanswered and unanswered(health.error):
            return True
        retry_at = self.pace.seen(health.retry_at, now, PASS_BACKOFF_CAP)
        return eager or retry_at is None or now >= retry_at

    def _attempt(
        self,
        stream: Stream,
        name: str,
        work: _Work,
        report: SyncReport,
        now: datetime,
        action: Callable[[], None],
    ) -> None:
        """Run one pass; its failure is recorded against it alone and never stops the rest."""
        asked = self.client.requests_made
        try:
            action()
        except UpstreamError as exc:
            state = work.snap.sync(stream.kind)
            failures = state.health(name).failures + 1
            retry_at = now + min(PASS_BACKOFF * 2 ** min(failures - 1, 12), PASS_BACKOFF_CAP)
            if exc.retry_at:
                retry_at = max(retry_at, datetime.fromtimestamp(exc.retry_at, UTC))
            self.pace.pin(retry_at, now)
            error = self._public_error(exc)
            if error != f"{exc.reason}: {exc}":
                log.warning("%s %s pass: %s: %s", PLURAL[stream.kind], name, exc.reason, exc)
            failing = {**state.failing, name: PassHealth(failures, error, retry_at)}
            work.snap = work.snap.with_sync(
                stream.kind, failing=failing, attempted_at=now, last_error=error, last_error_at=now
            )
            report.errors.append(f"{error} [{PLURAL[stream.kind]} {name}]")
            if exc.retry_at:
                report.retry_at = max(report.retry_at or 0.0, exc.retry_at)
            return
        if self.client.requests_made == asked:
            return  # nothing asked (out of budget, paused): no news of its health either
        report.passes_ok += 1
        work.snap = work.snap.with_sync(stream.kind, attempted_at=now)
        state = work.snap.sync(stream.kind)
        if name in state.failing:
            failing = {k: v for k, v in state.failing.items() if k != name}
            work.snap = work.snap.with_sync(stream.kind, failing=failing)

    def _due(self, last: datetime | None, now: datetime, minutes: int) -> bool:
        """Whether a pass last run at `last` (a stored time) is due again at `now`."""
        return due(self.pace.seen(last, now), now, minutes)

    def _public_error(self, exc: UpstreamError) -> str:
        """A pass's failure as every process reports it (/healthz): its reason word and
        message without the upstream's host, a server path or a credential (the whole
        message is logged)."""
        hosts = hosts_of(self.settings.upstream_url, self.settings.redis_url)
        return f"{exc.reason}: {public_text(str(exc), hosts)}"

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
        believe_removals(work.snap, stream.kind, len(seen), len(missing), now, until)
        if missing:
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
        cursor = work.snap.sync(stream.kind).changes
        floor = cursor.stamp if cursor.done else None
        if cursor.done and cursor.stamp:
            # A new pass: start a little below the newest change read (edits seen late).
            start = parse_stamp(cursor.stamp) - timedelta(
                minutes=self.settings.sync_overlap_minutes
            )
            cursor = Cursor(stamp(start))
        elif cursor.done:
            cursor = Cursor()
        work.new_pass()
        if floor and cursor.stamp:
            read = self._at_once(stream, work, report, now, cursor.stamp, floor)
            if read is not None:
                work.snap = work.snap.with_sync(stream.kind, changes=read, changes_at=now)
                return
        overlap = timedelta(minutes=self.settings.sync_overlap_minutes)
        done = self._walk(stream, work, report, now, cursor, max_pages, CHANGES)
        reached = work.snap.sync(stream.kind).changes
        if not done:
            report.out_of_budget = True
            if reached.stamp and reached.stamp >= stamp(now - overlap):
                # Stopped near the present: edits of this moment may still be landing, so
                # when the walk ends (in a later run) its mark stays at most here.
                cap = min(reached.cap or stamp(now), stamp(now))
                work.snap = work.snap.with_sync(stream.kind, changes=replace(reached, cap=cap))
                self.store.commit(work.snap)
            return
        mark = max(reached.stamp or "", floor or "")  # the overlap never lowers the mark
        # Nor does an item stamped in the future (a clock running ahead on LL2's side) raise
        # it past now, or past where an earlier run of this walk stopped near the present:
        # every later edit would sort below it and be skipped.
        kept = min(mark, stamp(now), reached.cap or mark) or None
        if kept != reached.stamp or reached.cap:
            work.snap = work.snap.with_sync(
                stream.kind, changes=replace(reached, stamp=kept, cap=None)
            )
        work.snap = work.snap.with_sync(stream.kind, changes_at=now)

    def _at_once(
        self, stream: Stream, work: _Work, report: SyncReport, now: datetime, since: str, mark: str
    ) -> Cursor | None:
        """A pass from `since` whose overlap alone fills a page (a bulk edit below the mark)
        first asks once, newest change first: the finished walk when that page holds every
        change, None to walk as ever (see `quietpass`)."""
        held = quietpass.held_since(work.snap, stream, since, now)
        if not quietpass.worth_asking(held):
            return None
        params = quietpass.probe_params(stream, since, now)
        page = self.client.page(stream.path, params, stream.parse)
        if page is None:
            return None
        self._absorb(stream, work, page, report, now, "changed")
        newest = quietpass.newest_if_complete(page, held, mark)
        # Never past now (an item stamped in the future would hide the edits after it).
        return None if newest is None else Cursor(min(newest, stamp(now)), done=True)

    def _history(self, work: _Work, report: SyncReport, now: datetime, eager: bool) -> None:
        """The backfill: pages of each unfinished history, paid only with requests the passes
        due in the coming hour leave over (with everything left, when run by hand). The
        stream that waited longest goes first, so two histories take turns."""
        ready = self._histories_ready(work.snap, now, eager)
        if not ready:
            return
        spare = self.client.budget.status().remaining if eager else self._spare(work.snap, now)
        ordered = longest_waiting(ready, work.snap, "history_at")
        for position, stream in enumerate(ordered):
            share = -(-spare // (len(ordered) - position))  # rounded up: one goes first
            if share <= 0:
                return
            asked = self.client.requests_made
            self._attempt(
                stream,
                HISTORY,
                work,
                report,
                now,
                functools.partial(self._history_pages, stream, work, report, now, share),
            )
            spare -= self.client.requests_made - asked

    def _histories_ready(self, snap: Snapshot, now: datetime, eager: bool) -> list[Stream]:
        return [
            s
            for s in self.streams
            if not snap.sync(s.kind).history.done and self._may_run(s, HISTORY, snap, now, eager)
        ]

    def _budget_below_cadence(self) -> bool:
        """Whether the reconciles and changes passes alone, at their cadence, need every
        request of the hour (a low ICALFEED_REQUESTS_PER_HOUR)."""
        per_hour = sum(
            -(-60 // self.settings.reconcile_minutes) + -(-60 // s.incremental_minutes)
            for s in self.streams
        )
        return self.client.budget.limit <= per_hour

    def _history_pages(
        self, stream: Stream, work: _Work, report: SyncReport, now: datetime, max_pages: int
    ) -> None:
        work.new_pass()
        cursor = work.snap.sync(stream.kind).history
        asked = self.client.requests_made
        done = self._walk(stream, work, report, now, cursor, max_pages, HISTORY)
        if self.client.requests_made > asked:  # its turn is over only when it had one
            work.snap = work.snap.with_sync(stream.kind, history_at=now)
        if done:  # saved with the rest of the run (the last page is saved already)
            audited = work.snap.sync(stream.kind).audited_at or now  # it read it all
            work.snap = work.snap.with_sync(
                stream.kind, backfill_complete=True, history_left=0, audited_at=audited
            )

    def _spare(self, snap: Snapshot, now: datetime) -> int:
        """Requests that may go now and still leave room, in every sliding hour, for each
        reconcile and changes pass due in the coming hour, at its cadence."""
        planned: list[datetime] = []
        for stream in self.streams:
            state = snap.sync(stream.kind)
            for name, last, minutes in (
                (RECONCILE, state.reconciled_at, self.settings.reconcile_minutes),
                (CHANGES, state.changes_at, stream.incremental_minutes),
            ):
                retry_at = self.pace.seen(state.health(name).retry_at, now, PASS_BACKOFF_CAP)
                planned += due_times(self.pace.seen(last, now), minutes, now, retry_at)
        status = self.client.budget.status()
        return spare_requests(status, [t.timestamp() for t in planned], now.timestamp())

    def _audit(self, work: _Work, report: SyncReport, now: datetime) -> None:
        """One page of the slow re-read of a stream's history, when one is due and the hour
        has requests to spare; the stream audited longest ago goes first."""
        minutes = self.settings.audit_minutes
        states = [work.snap.sync(s.kind) for s in self.streams]
        last = max((st.audited_at for st in states if st.audited_at), default=None)
        if not minutes or report.out_of_budget or not self._due(last, now, minutes):
            return
        if self._spare(work.snap, now) < 1:
            return
        ready = [
            s
            for s in self.streams
            if work.snap.sync(s.kind).backfill_complete
            and self._may_run(s, AUDIT, work.snap, now, eager=False)
        ]
        if not ready:
            return
        stream = longest_waiting(ready, work.snap, "audited_at")[0]

        def audit_page() -> None:
            cursor = work.snap.sync(stream.kind).audit
            work.new_pass()
            self._walk(stream, work, report, now, Cursor() if cursor.done else cursor, 1, AUDIT)
            work.snap = work.snap.with_sync(stream.kind, audited_at=now)

        self._attempt(stream, AUDIT, work, report, now, audit_page)

    def _walk(
        self,
        stream: Stream,
        work: _Work,
        report: SyncReport,
        now: datetime,
        cursor: Cursor,
        max_pages: int,
        name: str,
    ) -> bool:
        """Read up to `max_pages` pages of `stream` in `last_updated` order from `cursor`
        (the scheme is in the module docstring), saving the cursor as `name` after every
        page; True when the walk reached the end."""
        phase = {CHANGES: "changed", HISTORY: "history of", AUDIT: "audited"}[name]
        down = name == HISTORY  # the backfill walks down from where it began
        for _ in range(max_pages):
            if cursor.tie is not None and cursor.stamp is not None:
                offset, size = cursor.tie
                params = stream.tie_params(cursor.stamp, offset, now)
            elif down and cursor.stamp is not None:
                params = stream.history_params(cursor.stamp, now)
            else:
                params = stream.changes_params(cursor.stamp, now)
            page = self.client.page(stream.path, params, stream.parse)
            if page is None:
                return False
            self._absorb(stream, work, page, report, now, phase)
            before = cursor
            if cursor.tie is not None and cursor.stamp is not None:
                cursor = after_tie_page(cursor, page, offset, size, down)
            else:
                cursor = after_page(cursor, page, down)
            if down:
                state = work.snap.sync(stream.kind)
                left = state.history_left
                if before.tie is None and page.count is not None:
                    left = max(0, page.count - page.size)
                work.snap = work.snap.with_sync(
                    stream.kind, history_read=state.history_read + page.size, history_left=left
                )
            if cursor == replace(before, cap=None):
                raise UpstreamError("paging-loop", f"LL2 paging does not move on (at {page.url})")
            cursor = replace(cursor, cap=before.cap)  # carried until the walk ends
            work.snap = work.snap.with_sync(stream.kind, **{name: cursor})
            if name != AUDIT:
                # Saved page by page: a walk interrupted here resumes from this cursor.
                self.store.commit(work.snap)
            if cursor.done:
                return True
        return False

    def _absorb(
        self,
        stream: Stream,
        work: _Work,
        page: Page,
        report: SyncReport,
        now: datetime,
        phase: str,
    ) -> None:
        # A backfill or an audit reads what was always there: what it finds is not news.
        news = phase in NEWS_PHASES
        snap, counts = work.snap.merge(page.parsed.items, now, news=news)
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


def build_syncer(
    settings: Settings,
    store: Store,
    progress: Callable[[SyncProgress], None] | None = None,
    budget: Budget | None = None,
    on_request: Callable[[str, str], None] | None = None,
    watch: ClockWatch | None = None,
) -> Syncer:
    """The syncer for these settings, with its client and the shared budget; `on_request`
    hears of every upstream request (for /metrics), `watch` tells of clock steps."""
    budget = budget or RequestBudget(settings.data_dir, settings.requests_per_hour)
    client = LL2Client(settings, budget, on_request=on_request)
    return Syncer(settings, store, client, progress=progress, pace=Pace(watch or ClockWatch()))
