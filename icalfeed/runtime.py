"""What one running service holds: settings, store, budget and (maybe) the sync thread."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask, current_app

from .budget import Budget
from .config import Settings
from .feedcache import FeedCache, VeventCache
from .freshness import AnswerDates
from .store import Store, utcnow
from .sync import SyncScheduler


@dataclass
class Runtime:
    settings: Settings
    store: Store
    budget: Budget
    feeds: FeedCache = field(default_factory=FeedCache)
    vevents: VeventCache = field(default_factory=VeventCache)
    answers: AnswerDates = field(default_factory=AnswerDates)
    # A new release may render the same data differently: nothing it serves is older.
    started_at: datetime = field(default_factory=lambda: utcnow().replace(microsecond=0))
    scheduler: SyncScheduler | None = None
    warmed_version: str | None = None

    @property
    def role(self) -> str:
        """ "single" without Redis; else whether this instance holds the leader lease."""
        lease = self.scheduler.lease if self.scheduler else None
        if lease is None:
            return "single"
        return "leader" if lease.held else "follower"

    def warm(self) -> int:
        """Build the VEVENT bytes of every event of a new data version; returns how many."""
        snapshot = self.store.snapshot
        if snapshot.version == self.warmed_version:
            return 0
        for entry in snapshot.ordered_entries:
            self.vevents.get(entry, ())
        self.warmed_version = snapshot.version
        return len(snapshot.entries)


def current_runtime(app: Flask | None = None) -> Runtime:
    """The runtime of the app handling this request (or of `app`)."""
    return (app or current_app).extensions["icalfeed"]
