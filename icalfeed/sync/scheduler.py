"""The sync thread of a server: syncs when due, backs off after failures, follows a leader's
snapshot, and answers `icalfeed sync` run by hand in a Redis deployment.

Leadership (with Redis): the instance holding the lease syncs and shares the snapshot; the
others follow it, and take the lease as soon as it is free: told by the leader's release,
or finding it free on their poll, every `FOLLOWER_POLL_SECONDS` whatever the tick. The
leader keeps the lease only while it is worth keeping: it steps down when it cannot reach
LL2 or its syncs keep failing (see `leadership`), and its heartbeat stops renewing when its
sync has made no progress for `STALL_LEASES` lease periods (a call that hangs), so another
instance can try.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from ..data.lease import Lease
from .leadership import Standing
from .passes import Syncer
from .report import SyncProgress, SyncReport

if TYPE_CHECKING:
    from ..data.handsync import HandRequest

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 3600.0
STALL_LEASES = 3
# How often a follower checks whether the lease is free (one Redis call), besides hearing of
# a release at once: a leader that died without releasing is replaced within its lease's
# time to live plus this, whatever the tick.
FOLLOWER_POLL_SECONDS = 1.0


class HandSync(Protocol):
    """A sync asked for by hand (see `handsync.RedisHandSync`)."""

    def take(self) -> HandRequest | None: ...
    def progress(self, request: HandRequest, line: str) -> None: ...
    def finish(self, request: HandRequest, ok: bool, line: str) -> None: ...


class SyncScheduler:
    """Background thread of a server: syncs when due, backs off after failures, and picks up
    snapshots another process wrote (to the same data dir, or to Redis)."""

    def __init__(
        self,
        syncer: Syncer,
        tick_seconds: float,
        after_run: Callable[[], object] | None = None,
        lease: Lease | None = None,
        hand: HandSync | None = None,
    ) -> None:
        self.syncer = syncer
        self.tick = tick_seconds
        self.after_run = after_run
        self.lease = lease
        self.hand = hand
        self.standing = Standing()
        self.last_report: SyncReport | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()  # set to end the wait between two runs early
        self._led = False  # the last run was this instance's, as the leader
        self._thread = threading.Thread(target=self._loop, name="icalfeed-sync", daemon=True)
        self._run_started: float | None = None  # monotonic; None between runs
        # Written by the heartbeat's thread only (`making_progress`).
        self._seen_requests = 0
        self._seen_at = 0.0

    @property
    def failures(self) -> int:
        """Syncs in a row in which every pass tried failed (the back-off's exponent)."""
        return self.standing.failures

    @failures.setter
    def failures(self, value: int) -> None:
        self.standing.failures = value

    def start(self) -> None:
        if self.lease is not None:
            self.lease.start_heartbeat(self.making_progress)
            self.lease.on_release(self._wake.set)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop between two pages (a sync keeps what it fetched) and give the lease back."""
        self.halt()
        self.join(timeout)

    def halt(self) -> None:
        """Ask nothing more of LL2 and give the lease back at once, so another instance
        leads while this one finishes (a late write of ours is refused by the lease check)."""
        self._stop.set()
        self._wake.set()
        self.syncer.client.halt()
        if self.lease is not None:
            self.lease.release()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def next_delay(self) -> float:
        """Seconds until the next attempt: the tick, doubled per consecutive failure."""
        delay = self.tick * (2 ** min(self.failures, 12))
        report = self.last_report
        if report and report.retry_at:
            delay = max(delay, report.retry_at - self.syncer.client.clock())
        return float(min(max(delay, 1.0), max(MAX_BACKOFF_SECONDS, self.tick)))

    def making_progress(self) -> bool:
        """False while a sync has gone `STALL_LEASES` lease periods without a request to
        LL2 or an end: the heartbeat then lets the lease lapse."""
        started = self._run_started
        if started is None or self.lease is None:
            return True
        now, made = time.monotonic(), self.syncer.client.requests_made
        if made != self._seen_requests:
            self._seen_requests, self._seen_at = made, now
        return now - max(started, self._seen_at) < STALL_LEASES * self.lease.ttl_seconds

    def run_once(self, request: HandRequest | None = None) -> SyncReport:
        """One scheduler step (a hand `request` forces a sync and always gets an answer);
        never raises, so the thread never dies."""
        self._run_started = time.monotonic()
        published = self.syncer.store.published
        try:
            if self.lease is not None and not self.lease.hold():
                # Another instance leads: follow the snapshot it shares.
                self._led = False
                self.syncer.store.reload_if_changed()
                report = SyncReport(not_run="another instance is the leader")
            else:
                # Ours out first when a write of ours failed (it is the newest); else a newer
                # shared snapshot first (a hand sync while no one led), then ours out again
                # if the shared copy is not it (a lost Redis, a partial rebuild).
                store = self.syncer.store
                if not (store.unshared and store.republish_if_stale()):
                    store.reload_if_changed()
                    store.republish_if_stale()
                fresh = self.lease is not None and not self._led
                if fresh:
                    log.info("this instance leads now (it holds the lease)")
                self._led = True
                report = self._sync(request, retry_unanswered=fresh)
            self.syncer.store.sync_error = None  # a crash is news only until a clean run
        except Exception as exc:  # a bug must not stop syncing for the life of the server
            log.exception("sync crashed")
            # Public (/healthz): the kind of error only; its text and trace are in the log.
            report = SyncReport(error=f"internal: {type(exc).__name__}")
            self.syncer.store.sync_error = report.error
        finally:
            self._run_started = None
        if request is not None:
            self._answer(request, report, self.syncer.store.published > published)
        # Passes back off one by one; the whole scheduler slows down only when every pass
        # it tried failed (LL2 down), not when one endpoint is broken.
        self.standing.record(report)
        self.last_report = report
        if self.lease is not None and self.lease.held:
            stepping = self.standing.step_down_for(report, self.lease.ttl_seconds)
            if stepping is not None:
                pause, why = stepping
                log.warning("%s; stepping down for %.0f s so another instance can try", why, pause)
                self.lease.step_down(pause)
                self._led = False
        if self.after_run is not None:
            try:
                self.after_run()
            except Exception:
                log.exception("after-sync hook failed")
        return report

    def _sync(self, request: HandRequest | None, *, retry_unanswered: bool) -> SyncReport:
        self.syncer.retry_unanswered = retry_unanswered
        try:
            return self._sync_now(request)
        finally:
            self.syncer.retry_unanswered = False

    def _sync_now(self, request: HandRequest | None) -> SyncReport:
        if request is None or self.hand is None:
            return self.syncer.run()
        hand = self.hand
        shown = self.syncer.progress

        def relay(progress: SyncProgress) -> None:
            hand.progress(request, progress.line())

        self.syncer.progress = relay
        try:
            return self.syncer.run(full=request.full, force=True)
        finally:
            self.syncer.progress = shown

    def _answer(self, request: HandRequest, report: SyncReport, shared: bool) -> None:
        """Tell the waiting commands how it went: ok only when something was fetched and
        reached the shared snapshot."""
        ok, line = hand_outcome(report, shared, self.syncer.store.storage_error)
        if self.hand is None:
            return
        try:
            self.hand.finish(request, ok, line)
        except Exception as exc:  # the commands time out and say so
            log.warning("could not answer a hand sync: %s", exc)

    def _take_request(self) -> HandRequest | None:
        if self.hand is None or self.lease is None or not self.lease.held:
            return None
        try:
            return self.hand.take()
        except Exception as exc:  # Redis away: the scheduler's own reads report it
            log.debug("hand sync requests unavailable: %s", exc)
            return None

    def _loop(self) -> None:
        self.run_once()
        due = time.monotonic() + self.next_delay()
        # Wake at least every tick: a leader answers a hand sync within one tick, even
        # while it backs off; a follower checks the lease more often, and at once when
        # told of a release.
        while not self._stop.is_set():
            wait = max(0.0, min(self.tick, due - time.monotonic()))
            if self._following():
                wait = min(wait, FOLLOWER_POLL_SECONDS)
            self._wake.wait(wait)
            self._wake.clear()
            if self._stop.is_set():
                return
            request = self._take_request()
            if request is not None or time.monotonic() >= due or self._took_the_lease():
                self.run_once(request)
                due = time.monotonic() + self.next_delay()

    def _following(self) -> bool:
        return self.lease is not None and not self.lease.held

    def _took_the_lease(self) -> bool:
        """A follower that finds the lease free takes it (and syncs now)."""
        return self.lease is not None and not self.lease.held and self.lease.hold()


def hand_outcome(report: SyncReport, shared: bool, problem: str | None) -> tuple[bool, str]:
    """Whether a sync asked for by hand reached the instances, and the line that says so."""
    line = report.line()
    if not report.ok:
        return False, line
    if report.requests == 0:
        return False, f"{line}; nothing fetched (no request left this hour?), nothing shared"
    if not shared:
        return False, f"{line}; NOT shared with the other instances: {problem or 'no leader'}"
    return True, line
