"""What one running service holds: settings, store, budget and (maybe) the sync thread."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Flask, current_app

from ..base.clockstep import ClockWatch
from ..base.config import Settings
from ..base.freememory import release_free_memory
from ..data.store import Store, utcnow
from ..feeds.feedcache import FeedCache, JsonCache, VeventCache
from ..feeds.freshness import AnswerDates
from ..ll2.budget import Budget
from ..serving.admission import Admission, ClientBudgets, Refused, RenderLane
from ..serving.clients import CLIENT_KEY, ClientIdentity, remember
from ..sync.scheduler import SyncScheduler
from .metrics import Metrics

T = TypeVar("T")


@dataclass
class Runtime:
    settings: Settings
    store: Store
    budget: Budget
    feeds: FeedCache = field(default_factory=FeedCache)
    vevents: VeventCache = field(default_factory=VeventCache)
    fragments: JsonCache = field(default_factory=JsonCache)
    answers: AnswerDates = field(default_factory=AnswerDates)
    # A new release may render the same data differently: nothing it serves is older.
    started_at: datetime = field(default_factory=lambda: utcnow().replace(microsecond=0))
    scheduler: SyncScheduler | None = None
    # Steps of the wall clock this process saw (/healthz names them; the sync's pace).
    clock: ClockWatch = field(default_factory=ClockWatch)
    warmed_version: str | None = None
    metrics: Metrics | None = None  # None with ICALFEED_METRICS=0
    admission: Admission = field(init=False)
    identity: ClientIdentity = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        self.admission = Admission(
            ClientBudgets(s.client_renders_per_minute, s.client_render_burst),
            RenderLane(s.render_lanes, s.render_queue, s.render_wait_seconds),
        )
        self.identity = ClientIdentity.of(
            s.trusted_proxies, s.trusted_proxy_header, s.ipv6_client_prefix
        )

    def client(self, environ: MutableMapping[str, Any]) -> str:
        """The request's client address, as logged (see `clients`)."""
        return remember(environ, self.identity)

    def client_key(self, environ: MutableMapping[str, Any]) -> str:
        """What the request's render budget is kept under (IPv6: the client's network)."""
        remember(environ, self.identity)
        return str(environ[CLIENT_KEY])

    def refuse_early(self, environ: dict[str, Any]) -> Refused | None:
        """For the fast path: a client with no render left is refused before Flask."""
        return self.admission.early(self.client_key(environ))

    def timed(self, fmt: str, work: Callable[[], T]) -> T:
        """Do `work`, a render in format `fmt` ("ics", "json", "atom", "html"), timed for
        /metrics."""
        return work() if self.metrics is None else self.metrics.time_render(fmt, work)

    @property
    def role(self) -> str:
        """ "single" without Redis; else whether this instance holds the leader lease."""
        lease = self.scheduler.lease if self.scheduler else None
        if lease is None:
            return "single"
        return "leader" if lease.held else "follower"

    def warm(self) -> int:
        """Build the VEVENT bytes and JSON of every item of a new data version; returns how
        many."""
        snapshot = self.store.snapshot
        if snapshot.version == self.warmed_version:
            return 0
        # Nearest to now first: what default feeds show is ready soonest after a start.
        now = datetime.now(UTC)
        for entry in sorted(snapshot.entries.values(), key=lambda e: abs(e.item.start - now)):
            self.vevents.get(entry, ())
            self.fragments.get(entry)
        self.warmed_version = snapshot.version
        release_free_memory()  # what the previous version's pieces held
        return len(snapshot.entries)


def current_runtime(app: Flask | None = None) -> Runtime:
    """The runtime of the app handling this request (or of `app`)."""
    runtime: Runtime = (app or current_app).extensions["icalfeed"]
    return runtime
