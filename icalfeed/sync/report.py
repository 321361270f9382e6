"""What a sync reports: the names of its passes, its progress after each page, and its
outcome (the log line, the CLI's answer, /healthz)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..data.snapshot import MergeCounts
from ..ll2.models import Event, Launch

RECONCILE = "reconcile"
CHANGES = "changes"
HISTORY = "history"
AUDIT = "audit"


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """What a progress display shows after each page."""

    phase: str  # "upcoming events", "changed launches", …
    pages: int  # of this pass
    items: int  # of this pass
    requests_left: int

    def line(self) -> str:
        return (
            f"{self.phase}: {self.pages} pages fetched, {self.items} items, "
            f"{self.requests_left} requests left this hour"
        )


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
    error: str | None = None  # every failed pass: "http-500: … [launches reconcile]; …"
    errors: list[str] = field(default_factory=list)
    passes_ok: int = 0  # passes that ran without failing
    retry_at: float | None = None
    out_of_budget: bool = False
    not_run: str | None = None  # why nothing was attempted
    backfill_complete: bool = False
    history_left: int | None = None  # items the unfinished backfills still have to read
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
            if self.history_left is not None:
                text += f" ({self.history_left} items to go)"
        if self.error:
            text += f"; error: {self.error}"
        return text
