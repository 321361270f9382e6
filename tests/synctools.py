"""A controllable clock and a syncer wired to it, for sync tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from icalfeed.base.config import Settings
from icalfeed.data.store import Store
from icalfeed.ll2.budget import RequestBudget
from icalfeed.ll2.upstream import LL2Client
from icalfeed.sync.passes import Syncer


class Clock:
    """Shared fake time for the syncer, the store and the budget."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def timestamp(self) -> float:
        return self.now.timestamp()

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_syncer(settings: Settings, clock: Clock, store: Store | None = None) -> Syncer:
    if store is None:
        store = Store(settings, clock=clock)
        store.load()
    budget = RequestBudget(settings.data_dir, settings.requests_per_hour, clock=clock.timestamp)
    client = LL2Client(settings, budget, clock=clock.timestamp)
    return Syncer(settings, store, client, clock=clock)


def stand_in_store() -> Any:
    """Just enough of a Store for a SyncScheduler whose syncer is scripted."""
    return type(
        "S",
        (),
        {
            "reload_if_changed": lambda self: False,
            "republish_if_stale": lambda self: False,
            "sync_error": None,
            "published": 0,
            "unshared": False,
        },
    )()


def stand_in_client() -> Any:
    """Just enough of an LL2Client for the same."""
    return type("C", (), {"requests_made": 0, "clock": time.time, "halt": lambda self: None})()
