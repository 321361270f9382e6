"""Where syncing one kind of item stands (cursors of the keyset walks, each pass's health,
the outcome every process reports), persisted with the snapshot so a restart resumes; and
its JSON form in the snapshot file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..ll2.models import Event, parse_datetime


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a keyset walk over LL2's `last_updated` order stands (see `sync` for the
    scheme): every item stamped before `stamp` (whole seconds, UTC) has been read."""

    stamp: str | None = None
    # Inside the group of items stamped in the second `stamp`, too big for one page:
    # (items read, the group's size when last asked). None when not in such a group.
    tie: tuple[int, int] | None = None
    done: bool = False  # the walk reached the end; the next one starts again (with overlap)
    # A walk that stopped near the present (out of budget) and goes on in a later run: the
    # newest mark it may set when it ends, so its overlap still covers that moment.
    cap: str | None = None


@dataclass(frozen=True, slots=True)
class PassHealth:
    """How one pass of one stream is failing: it backs off alone, the others go on."""

    failures: int = 0  # in a row
    error: str | None = None  # the last one, "http-500: LL2 answered …"
    retry_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SyncState:
    """Where syncing one kind of item stands; persisted with the snapshot so a restart
    resumes."""

    changes: Cursor = Cursor()  # the changes pass: every change from where history began
    audit: Cursor = Cursor()  # the slow safety-net re-read of the whole history
    # The history backfill walks down from the moment it began, newest change first (its
    # `stamp` is the second it is read down to); it is complete when it reached the bottom.
    history: Cursor = Cursor()
    history_days: int | None = None  # how far back that history reaches (None: all of it)
    history_read: int = 0  # items the backfill read so far
    history_left: int | None = None  # items LL2 says are still below it
    history_at: datetime | None = None  # its last page
    backfill_complete: bool = False
    changes_at: datetime | None = None  # last finished pass over changed items
    reconciled_at: datetime | None = None  # last complete read of the upcoming window
    succeeded_at: datetime | None = None  # last sync that got at least one good page
    audited_at: datetime | None = None  # last safety-net page
    failing: Mapping[str, PassHealth] = field(default_factory=dict)  # by pass name
    # The outcome every process reports (/healthz), kept here because the snapshot is what
    # all of them read: the last pass attempted, and the last error, even once recovered.
    attempted_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None

    @property
    def history_started(self) -> bool:
        return self.history.stamp is not None or self.history.done

    def history_covers(self, days: int | None) -> bool:
        """Whether the backfill begun (or done) reaches back as far as `days` asks."""
        if not self.history_started:
            return False
        return self.history_days is None or (days is not None and days <= self.history_days)

    @property
    def watermark(self) -> str | None:
        """The changes pass's cursor: every change stamped before it has been read."""
        return self.changes.stamp

    def health(self, name: str) -> PassHealth:
        return self.failing.get(name, _HEALTHY)


_HEALTHY = PassHealth()


NEVER = SyncState()


def state_json(state: SyncState) -> dict[str, Any]:
    return {
        "watermark": state.changes.stamp,  # the name of format 1 and early format 2
        "changes": cursor_json(state.changes),
        "audit": cursor_json(state.audit),
        "history": cursor_json(state.history),
        "history_days": state.history_days,
        "history_read": state.history_read,
        "history_left": state.history_left,
        "history_at": _iso(state.history_at),
        "backfill_complete": state.backfill_complete,
        "changes_at": _iso(state.changes_at),
        "reconciled_at": _iso(state.reconciled_at),
        "succeeded_at": _iso(state.succeeded_at),
        "audited_at": _iso(state.audited_at),
        "attempted_at": _iso(state.attempted_at),
        "last_error": state.last_error,
        "last_error_at": _iso(state.last_error_at),
        "failing": {
            name: {"failures": h.failures, "error": h.error, "retry_at": _iso(h.retry_at)}
            for name, h in sorted(state.failing.items())
        },
    }


def cursor_json(cursor: Cursor) -> dict[str, Any]:
    return {
        "stamp": cursor.stamp,
        "tie": list(cursor.tie) if cursor.tie else None,
        "done": cursor.done,
        "cap": cursor.cap,
    }


def state_from(kind: str, raw: Mapping[str, Any]) -> SyncState:
    changes = cursor_from(raw.get("changes"))
    if changes.stamp is None and raw.get("watermark"):
        # Written before cursors: a watermark from a finished pass.
        changes = Cursor(str(raw["watermark"]), None, bool(raw.get("backfill_complete")))
    complete = bool(raw.get("backfill_complete"))
    if "history" in raw:
        history = cursor_from(raw.get("history"))
        days = raw.get("history_days")
        history_days = int(days) if isinstance(days, int) else None
    else:
        # Written when the changes pass was the backfill: events were read back to the
        # first one; launches only from 60 days ago, so their history is still to come.
        complete = complete and kind == Event.kind
        history, history_days = Cursor(done=complete), None
    left = raw.get("history_left")
    return SyncState(
        changes=changes,
        audit=cursor_from(raw.get("audit")),
        history=history,
        history_days=history_days,
        history_read=int(raw.get("history_read") or 0),
        history_left=int(left) if isinstance(left, int) else None,
        history_at=parse_datetime(raw.get("history_at")),
        backfill_complete=complete,
        changes_at=parse_datetime(raw.get("changes_at")),
        reconciled_at=parse_datetime(raw.get("reconciled_at")),
        succeeded_at=parse_datetime(raw.get("succeeded_at")),
        audited_at=parse_datetime(raw.get("audited_at")),
        attempted_at=parse_datetime(raw.get("attempted_at")),
        last_error=str(raw["last_error"]) if raw.get("last_error") else None,
        last_error_at=parse_datetime(raw.get("last_error_at")),
        failing={
            str(name): PassHealth(
                int(h.get("failures") or 0), h.get("error"), parse_datetime(h.get("retry_at"))
            )
            for name, h in (raw.get("failing") or {}).items()
            if isinstance(h, Mapping)
        },
    )


def cursor_from(raw: Any) -> Cursor:
    if not isinstance(raw, Mapping):
        return Cursor()
    tie = raw.get("tie")
    return Cursor(
        stamp=raw.get("stamp") if isinstance(raw.get("stamp"), str) else None,
        tie=(int(tie[0]), int(tie[1])) if isinstance(tie, list) and len(tie) == 2 else None,
        done=bool(raw.get("done")),
        cap=raw.get("cap") if isinstance(raw.get("cap"), str) else None,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
