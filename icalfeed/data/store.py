"""The current snapshot: loaded from disk or the packaged sample, persisted atomically.

One `Store` per process holds a reference to an immutable `Snapshot`; swapping that reference
is atomic, so request threads never see half an update.  On disk the snapshot is written to a
temporary file, flushed, and renamed over the old one: a crash at any moment leaves either the
old or the new file, never a broken one.
"""

from __future__ import annotations

import functools
import gc
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Protocol

from ..base.config import Settings
from ..base.disclosure import shared_store_reason, storage_reason
from ..base.durable import replace_file
from ..base.errors import SnapshotError
from .snapshot import Snapshot

SNAPSHOT_NAME = "snapshot.json"
log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def read_snapshot(path: Path, source: str = "snapshot") -> Snapshot:
    """Load a snapshot file; SnapshotError when it is unreadable or not a snapshot."""
    # Tens of thousands of new objects, none of them cyclic garbage: the cyclic collector
    # would only walk them again and again while they are made (a third of the load).
    collecting = gc.isenabled()
    if collecting:
        # Garbage now would be frozen below with the new snapshot and never collected: gone
        # first (cheap once the last snapshot is frozen; 20 ms at start-up).
        gc.collect()
    gc.disable()
    try:
        return Snapshot.from_text(path.read_bytes().decode(), source)
    except OSError as exc:
        raise SnapshotError(f"cannot read {path}: {exc.strerror}", storage_reason(exc)) from None
    except ValueError as exc:
        raise SnapshotError(f"{path} is not valid JSON ({exc})") from None
    finally:
        if collecting:
            # What was just made lives until a newer snapshot replaces it, and goes then by
            # reference counting: frozen, the collector does not walk it again (a first
            # full collection over it cost 0.2 s of the first request at LL2's size).
            gc.freeze()
            gc.enable()


def snapshot_bytes(snapshot: Snapshot) -> bytes:
    return snapshot.to_text().encode()


def write_snapshot(path: Path, snapshot: Snapshot) -> None:
    """Write atomically and durably (see `durable.replace_file`)."""
    try:
        replace_file(path, snapshot_bytes(snapshot), before_rename=_before_rename)
    except OSError as exc:
        raise SnapshotError(
            f"cannot write {path}: {exc.strerror or exc}", storage_reason(exc)
        ) from None


def _before_rename(tmp: Path, final: Path) -> None:
    """Seam for crash tests: runs between the temp write and the rename."""


@functools.cache
def load_sample() -> Snapshot:
    """The snapshot of real LL2 events shipped inside the package (read once)."""
    text = resources.files("icalfeed").joinpath("sample/events.json").read_bytes()
    return Snapshot.from_json(json.loads(text), "sample")


class SharedSnapshots(Protocol):
    """Where several instances share the snapshot (Redis); see `redisstate`."""

    def read(self) -> bytes | None: ...
    def stamp(self) -> str | None: ...
    def write(self, body: bytes, stamp: str) -> None: ...


class Store:
    """Holds the snapshot being served and keeps the on-disk copy (and, with several
    instances, the shared copy) in step with it."""

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
        shared: SharedSnapshots | None = None,
    ) -> None:
        self.path = settings.data_dir / SNAPSHOT_NAME
        self.clock = clock
        self.shared = shared
        self._snapshot = Snapshot({})  # what is served
        # The synced snapshot as stored, which syncs build on. The same as the served one,
        # except while it holds no item yet (a first sync that failed): then the sample is
        # served, with the synced snapshot's stream states, so its failures still show.
        self._synced: Snapshot | None = None
        self._lock = threading.Lock()
        self._disk_stamp: tuple[int, int, int] | None = None
        self._shared_stamp: str | None = None  # of the shared snapshot we serve (or wrote)
        self._refused_stamp: str | None = None  # a partial shared snapshot we did not take
        self._unshared = False  # our last write to the shared store failed
        self.published = 0  # snapshots this process wrote to the shared store
        # Problems kept apart, so a good sync never hides a full disk, nor the reverse. Both
        # are public (/healthz): short reasons, the details are in the log.
        self.sync_error: str | None = None  # a crash of this process's scheduler
        self.storage_error: str | None = None  # disk or shared store; cleared when it works
        self._read_problem: str | None = None  # the storage_error a failed shared read set
        self.disk_errors = 0  # failed snapshot writes and damaged reads, for /metrics
        self.shared_errors = 0  # failed reads and writes of the shared store, for /metrics

    @property
    def last_error(self) -> str | None:
        """What /healthz reports: the passes failing now (shared: recorded in the snapshot
        by whichever process synced), this process's storage problem, and a crash."""
        errors = [*self._snapshot.failing_now(), self.sync_error, self.storage_error]
        return "; ".join(e for e in errors if e) or None

    @property
    def unshared(self) -> bool:
        """Our last write to the shared store failed: the shared copy is older than ours."""
        return self._unshared

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def load(self) -> Snapshot:
        """Serve the disk snapshot if there is a good one, else the packaged sample.

        A damaged file is moved aside (never deleted) and reported loudly.
        """
        with self._lock:
            local = self._read_disk()
            synced = self._adopt_shared(local) or local
            if synced is not None:
                self._serve(synced)
            else:
                self._snapshot = self._sample(Snapshot({}))
            return self._snapshot

    def _serve(self, synced: Snapshot) -> None:
        """Serve a synced snapshot (the sample in its place while it has no item)."""
        self._synced = synced
        self._snapshot = synced if synced.entries else self._sample(synced)

    def _sample(self, synced: Snapshot) -> Snapshot:
        try:
            sample = load_sample()
        except (OSError, ValueError, SnapshotError) as exc:
            log.error("packaged sample unusable: %s", exc)
            return synced
        log.info("serving the packaged sample (%d events)", len(sample.entries))
        return replace(sample, streams=synced.streams)

    def synced_base(self) -> Snapshot:
        """What a sync builds on: the synced snapshot, never the sample."""
        self.reload_if_changed()
        return self._synced if self._synced is not None else Snapshot({}, source="snapshot")

    def commit(self, snapshot: Snapshot) -> None:
        """Persist, then serve `snapshot`.  If the disk refuses, serve it from memory anyway
        (the data is good) and record the error."""
        now = self.clock()
        previous = self._synced
        unchanged = previous is not None and previous.version == snapshot.version
        changed_at = (previous.changed_at or now) if previous and unchanged else now
        stamped = self._with_names(
            snapshot.restamped(
                source="snapshot", saved_at=now, changed_at=changed_at, as_of={}
            )  # live data: never shown as of another moment
        )
        with self._lock:
            problems = []
            try:
                write_snapshot(self.path, stamped)
                self._disk_stamp = _stamp(self.path)
            except SnapshotError as exc:
                self.disk_errors += 1
                problems.append(exc.reason)
                log.error("%s; serving the new data from memory only", exc)
            if self.shared is not None:
                problem = self._share(stamped)
                if problem:
                    problems.append(problem)
            self.storage_error = "; ".join(problems) or None
            self._serve(stamped)

    def republish_if_stale(self) -> bool:
        """The leader's duty: whenever the shared snapshot is not the one it serves — Redis
        lost it, a write of ours failed, or it holds a partial rebuild we refused — put ours
        there, so every instance serves the same bytes."""
        if self.shared is None or self._synced is None:
            return False
        try:
            stamp = self.shared.stamp()
        except Exception:  # unreachable: nothing to do now, reads report it
            return False
        if stamp is not None and stamp == self._shared_stamp and not self._unshared:
            return False
        with self._lock:
            problem = self._share(self._synced)
        if problem:
            self.storage_error = problem
            return False
        self._forget_shared_problems()
        log.warning("the shared snapshot was not ours (%s); published ours again", stamp)
        return True

    def _share(self, snapshot: Snapshot) -> str | None:
        """Write to the shared store; the problem in words, or None."""
        assert self.shared is not None
        stamp = f"{snapshot.version}@{self.clock().isoformat()}"
        try:
            self.shared.write(snapshot_bytes(snapshot), stamp)
        except Exception as exc:  # the shared store's own errors (Redis, a lost lease)
            self.shared_errors += 1
            log.error("cannot share the new snapshot: %s", exc)
            # Read the shared copy afresh on the next tick: a leader puts ours back, and an
            # instance that lost the lease mid-sync goes back to serving what the others do.
            self._unshared, self._shared_stamp = True, None
            return shared_store_reason(exc)
        self._shared_stamp, self._unshared = stamp, False
        self.published += 1
        return None

    def _forget_shared_problems(self) -> None:
        """The shared copy is good again (ours, or a leader's we took): a failed write of
        ours no longer matters; the disk's problem, if any, stays."""
        self._unshared = False
        if self.storage_error:
            kept = [p for p in self.storage_error.split("; ") if not p.startswith("shared store")]
            self.storage_error = "; ".join(kept) or None

    def reload_if_changed(self) -> bool:
        """Pick up a snapshot another process wrote (to Redis, or to the shared data dir)."""
        if self.shared is not None:
            with self._lock:
                snapshot = self._adopt_shared(self._synced)
                if snapshot is None or self._holds(snapshot):
                    return False
                self._serve(snapshot)
                try:  # our own copy: a restart of this instance starts from good data
                    write_snapshot(self.path, snapshot)
                    self._disk_stamp = _stamp(self.path)
                except SnapshotError as exc:
                    log.warning("could not keep a local copy: %s", exc)
                return True
        stamp = _stamp(self.path)
        if stamp is None or stamp == self._disk_stamp:
            return False
        with self._lock:
            try:
                snapshot = read_snapshot(self.path)
            except SnapshotError as exc:
                # Possibly another writer mid-flight on a non-atomic filesystem: keep serving.
                log.warning("not reloading: %s", exc)
                return False
            self._disk_stamp = stamp
            if self._holds(snapshot):
                return False
            self._serve(self._with_names(snapshot))
            return True

    def _holds(self, snapshot: Snapshot) -> bool:
        """Whether `snapshot` is the synced one we have (same data, same stream states)."""
        synced = self._synced
        return (
            synced is not None
            and snapshot.version == synced.version
            and snapshot.streams == synced.streams
        )

    def _adopt_shared(self, current: Snapshot | None) -> Snapshot | None:
        """The shared snapshot when it is new to us and may replace `current`; None when
        there is none, it is what we have, or it is clearly partial beside `current` (a
        rebuild from nothing after Redis lost everything: ours stays, and a leader puts it
        back). The one rule for every read of the shared snapshot, at start-up too."""
        found = self._read_shared()
        if found is None:
            return None
        stamp, snapshot = found
        if current is not None and _shrinks(current, snapshot):
            if stamp != self._refused_stamp:
                log.warning(
                    "shared snapshot has %d items where we have %d; not taken",
                    len(snapshot.entries),
                    len(current.entries),
                )
            self._refused_stamp = stamp
            return None
        self._shared_stamp = stamp
        self._forget_shared_problems()
        return snapshot

    def _read_shared(self) -> tuple[str, Snapshot] | None:
        """The shared snapshot and its stamp when it is not the one we serve or refused;
        None otherwise or when the shared store cannot be reached (we keep serving what we
        have)."""
        if self.shared is None:
            return None
        try:
            stamp = self.shared.stamp()
            if self._read_problem and self.storage_error == self._read_problem:
                self.storage_error = None  # it answers again
            self._read_problem = None
            if stamp is None or stamp in (self._shared_stamp, self._refused_stamp):
                return None
            body = self.shared.read()
            snapshot = Snapshot.from_json(json.loads(body or b"null"), "snapshot")
        except SnapshotError as exc:
            log.warning("shared snapshot unusable: %s", exc)
            return None
        except Exception as exc:  # Redis down or slow: keep serving the last good data
            self.shared_errors += 1
            self.storage_error = self._read_problem = shared_store_reason(exc)
            log.warning("shared store unreadable (%s); serving the last good snapshot", exc)
            return None
        return stamp, self._with_names(snapshot)

    def _read_disk(self) -> Snapshot | None:
        stamp = _stamp(self.path)
        if stamp is None:
            return None
        try:
            snapshot = read_snapshot(self.path)
        except SnapshotError as exc:
            self.disk_errors += 1
            aside = self.path.with_name(
                f"{SNAPSHOT_NAME}.corrupt-{self.clock().strftime('%Y%m%dT%H%M%SZ')}"
            )
            try:
                os.replace(self.path, aside)
                moved = f"moved to {aside.name}"
            except OSError as move_exc:
                moved = f"not moved aside ({storage_reason(move_exc)})"
                log.error("cannot move %s aside: %s", self.path, move_exc.strerror)
            self.storage_error = f"storage: snapshot damaged, {moved}; serving the sample"
            log.error("SNAPSHOT DAMAGED (%s): %s", exc, self.storage_error)
            return None
        self._disk_stamp = stamp
        log.info("loaded snapshot %s (%d events)", self.path, len(snapshot.entries))
        return self._with_names(snapshot)

    def _with_names(self, snapshot: Snapshot) -> Snapshot:
        """Keep the sample's agencies, programs and types resolvable: a subscriber's feed URL
        must not turn into an error while a first backfill has not reached its events yet."""
        try:
            sample = load_sample()
        except (OSError, ValueError, SnapshotError):
            return snapshot
        return snapshot.restamped(name_sources=sample.events)


def _shrinks(current: Snapshot, new: Snapshot) -> bool:
    """A shared snapshot with far fewer events than a synced one we serve is a rebuild from
    nothing (a new leader after Redis lost everything), not news: keep ours."""
    return current.source == "snapshot" and len(new.entries) < 0.9 * len(current.entries)


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)
