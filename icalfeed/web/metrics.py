"""Prometheus metrics of one app, in a registry of its own (never the process-wide default:
tests build many apps in one process, and each app counts only its own requests).

Counted as things happen: requests by route class, status and outcome; render durations;
upstream requests by kind and outcome. Read at scrape time from the live state: the request
budget, the snapshot (age, source, items by kind and state, each stream's last success and
failing passes), this instance's role and the storage errors.

Every label takes its values from a small fixed set (`ROUTES`, `observe.OUTCOMES`, the
formats, kinds, passes and roles); no URL, query or client address is ever a label.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ..data.snapshot import KINDS, Snapshot
from ..data.store import Store, utcnow
from ..ll2.budget import Budget
from ..ll2.models import Event, Launch
from ..serving.fastpath import FEED_PATH
from ..serving.observe import OUTCOME, Headers
from ..sync.report import AUDIT, CHANGES, RECONCILE

T = TypeVar("T")
ROUTES = (
    "feed_ics",
    "feed_json",
    "changes",
    "page",
    "widget",
    "static",
    "healthz",
    "metrics",
    "other",
)
FORMATS = ("ics", "json", "atom", "html")
PASSES = (RECONCILE, CHANGES, AUDIT)
ROLES = ("single", "leader", "follower")
SOURCES = ("snapshot", "sample", "empty")
UPSTREAM_KINDS = ("events", "launches", "other")
UPSTREAM_OUTCOMES = ("ok", "http_4xx", "http_5xx", "throttled", "timeout", "error")
# Renders take milliseconds; a page or a cold feed of thousands of items up to a second.
RENDER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# The classic text format generate_latest writes (prometheus_client's CONTENT_TYPE_LATEST now
# names version 1.0.0, which a scraper may read differently).
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
_PAGES = frozenset({"/", "/programs", "/agencies", "/types"})
_CHANGES = frozenset({"/changes.atom", "/changes.json"})
_ITEM_PAGE = re.compile(r"^/(?:events|launches)/[^/]+$")  # an item's own page
log = logging.getLogger(__name__)


def route_class(path: str) -> str:
    """Which of `ROUTES` a request path belongs to."""
    if path in _CHANGES:
        return "changes"
    if FEED_PATH.match(path):
        return "feed_ics" if path.endswith(".ics") else "feed_json"
    if path in _PAGES or _ITEM_PAGE.match(path):
        return "page"
    if path == "/widget":
        return "widget"
    if path.startswith("/static/"):
        return "static"
    if path == "/healthz":
        return "healthz"
    if path == "/metrics":
        return "metrics"
    return "other"


def status_label(status: str) -> str:
    """The three-digit code of a status line ("200 OK" → "200"); "other" if it is none."""
    code = status[:3]
    return code if code.isdigit() and len(code) == 3 else "other"


@dataclass(frozen=True)
class LiveState:
    """Where the scrape-time facts come from."""

    store: Store
    budget: Budget
    role: Callable[[], str]  # "single", "leader" or "follower"
    clock: Callable[[], datetime] = utcnow


class Metrics:
    """The metrics of one app (see the module docstring)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "icalfeed_http_requests",
            "HTTP requests answered, by route class, status and how they were answered "
            "(fast: stored answer; cached: rendered-feed cache; rendered; refused: 429/503 "
            "from the flood protections; none: not a feed or page render).",
            ["route", "status", "outcome"],
            registry=self.registry,
        )
        self.renders = Histogram(
            "icalfeed_render_duration_seconds",
            "Time to render a feed (ics, json) or a page (html) the caches could not answer.",
            ["format"],
            buckets=RENDER_BUCKETS,
            registry=self.registry,
        )
        self.upstream = Counter(
            "icalfeed_upstream_requests",
            "Requests this process sent to Launch Library 2, by kind and outcome.",
            ["kind", "outcome"],
            registry=self.registry,
        )
        # Bound children by label values: a dict lookup per request instead of `labels()`.
        self._request_children: dict[tuple[str, str, str], Any] = {}
        for kind in UPSTREAM_KINDS:
            for outcome in UPSTREAM_OUTCOMES:
                self.upstream.labels(kind, outcome)  # every series from 0, for rate()
        self._render_children = {fmt: self.renders.labels(fmt) for fmt in FORMATS}

    def watch(self, state: LiveState) -> None:
        """Read `state` at every scrape (budget, snapshot, role, storage errors)."""
        self.registry.register(_LiveCollector(state))

    def __call__(
        self, environ: dict[str, Any], status: str, headers: Headers, seconds: float
    ) -> None:
        """A listener of `observe.Observed`: count one finished request."""
        key = (
            route_class(environ.get("PATH_INFO", "")),
            status_label(status),
            environ.get(OUTCOME, "none"),
        )
        child = self._request_children.get(key)
        if child is None:
            child = self._request_children[key] = self.requests.labels(*key)
        child.inc()

    def upstream_request(self, kind: str, outcome: str) -> None:
        """An `upstream.RequestHook`: count one request sent to LL2."""
        self.upstream.labels(kind, outcome).inc()

    def time_render(self, fmt: str, work: Callable[[], T]) -> T:
        """Do `work` (a render in format `fmt`, one of `FORMATS`) and record how long it took."""
        started = time.perf_counter()
        try:
            return work()
        finally:
            self._render_children[fmt].observe(time.perf_counter() - started)

    def exposition(self) -> bytes:
        """Everything, in the Prometheus text format (`CONTENT_TYPE`)."""
        return generate_latest(self.registry)


class _LiveCollector(Collector):
    """Facts read from the live state at each scrape, so they are never stale."""

    def __init__(self, state: LiveState) -> None:
        self.state = state
        self._items: tuple[str, dict[tuple[str, str], int]] | None = None

    def collect(self) -> Iterable[Metric]:
        """Each family from the live state; one that cannot be read now is left out of this
        scrape (and logged), never the scrape failed."""
        for section in (self._budget, self._snapshot_facts, self._role, self._store_errors):
            try:
                yield from list(section())
            except Exception as exc:
                log.warning("metrics: %s unavailable: %s", section.__name__.strip("_"), exc)

    def _snapshot_facts(self) -> Iterator[Metric]:
        yield from self._snapshot(self.state.store.snapshot, self.state.clock())

    def _role(self) -> Iterator[Metric]:
        role = self.state.role()
        leader = GaugeMetricFamily(
            "icalfeed_leader",
            "1 while this process holds the leader lease (Redis) and so is the one syncing.",
        )
        leader.add_metric([], 1.0 if role == "leader" else 0.0)
        yield leader
        roles = GaugeMetricFamily(
            "icalfeed_role",
            "This process's role: single (no Redis), leader or follower; 1 for the current.",
            labels=["role"],
        )
        for name in ROLES:
            roles.add_metric([name], 1.0 if role == name else 0.0)
        yield roles

    def _store_errors(self) -> Iterator[Metric]:
        store = self.state.store
        errors = CounterMetricFamily(
            "icalfeed_shared_store_errors",
            "Failed reads and writes of the stores this process shares: the snapshot file in "
            "the data dir, and Redis.",
            labels=["store"],
        )
        errors.add_metric(["data_dir"], float(store.disk_errors))
        errors.add_metric(["redis"], float(store.shared_errors))
        yield errors

    def _budget(self) -> Iterator[Metric]:
        try:
            status = self.state.budget.status()
        except Exception as exc:  # an unreadable budget must not fail the whole scrape
            log.warning("metrics: budget status unavailable: %s", exc)
            return
        now = time.time()
        for name, value, text in (
            ("limit", status.limit, "Upstream requests allowed in any hour."),
            ("used", status.used, "Upstream requests spent in the last hour (every process)."),
            ("remaining", status.remaining, "Upstream requests left in the current hour."),
        ):
            gauge = GaugeMetricFamily(f"icalfeed_upstream_budget_{name}", text)
            gauge.add_metric([], float(value))
            yield gauge
        paused = GaugeMetricFamily(
            "icalfeed_upstream_paused",
            "1 while the upstream's 429 pauses every request (Retry-After).",
        )
        paused.add_metric([], 1.0 if status.paused_until and status.paused_until > now else 0.0)
        yield paused
        until = GaugeMetricFamily(
            "icalfeed_upstream_paused_until_timestamp_seconds",
            "When the current pause ends (Unix time); 0 when not paused.",
        )
        until.add_metric([], float(status.paused_until or 0.0))
        yield until
        known = GaugeMetricFamily(
            "icalfeed_upstream_budget_known",
            "1 when the shared budget was read as it should be; 0 when the data dir or Redis "
            "refused (the used and remaining counts are then the safe assumption, all used).",
        )
        known.add_metric([], 0.0 if status.problem else 1.0)
        yield known

    def _snapshot(self, snapshot: Snapshot, now: datetime) -> Iterator[Metric]:
        events, launches = snapshot.sync(Event.kind), snapshot.sync(Launch.kind)
        successes = [s.succeeded_at for s in (events, launches) if s.succeeded_at]
        synced = max(successes, default=None) or snapshot.saved_at
        if synced is not None:
            age = GaugeMetricFamily(
                "icalfeed_snapshot_age_seconds",
                "Seconds since the last successful sync (as /healthz snapshot_age_seconds).",
            )
            age.add_metric([], max(0.0, (now - synced).total_seconds()))
            yield age
        source = GaugeMetricFamily(
            "icalfeed_snapshot_source",
            "Where the served data comes from: snapshot (synced), sample or empty; 1 for the "
            "current.",
            labels=["source"],
        )
        for name in SOURCES:
            source.add_metric([name], 1.0 if snapshot.source == name else 0.0)
        yield source
        items = GaugeMetricFamily(
            "icalfeed_items",
            "Items in the served snapshot by kind (event, launch) and state (live, cancelled).",
            labels=["kind", "state"],
        )
        for (kind, item_state), count in self._counted(snapshot).items():
            items.add_metric([kind, item_state], float(count))
        yield items
        last = GaugeMetricFamily(
            "icalfeed_stream_last_success_timestamp_seconds",
            "When each kind's stream last synced successfully (Unix time).",
            labels=["kind"],
        )
        failing = GaugeMetricFamily(
            "icalfeed_stream_pass_failures",
            "Failures in a row of each sync pass of each kind (0: fine), as /healthz failing.",
            labels=["kind", "pass"],
        )
        for kind in KINDS:
            stream = snapshot.sync(kind)
            if stream.succeeded_at is not None:
                last.add_metric([kind], stream.succeeded_at.timestamp())
            for name in PASSES:
                failing.add_metric([kind, name], float(stream.health(name).failures))
        yield last
        yield failing

    def _counted(self, snapshot: Snapshot) -> dict[tuple[str, str], int]:
        """Items by (kind, live/cancelled), counted once per data version."""
        cached = self._items
        if cached is not None and cached[0] == snapshot.version:
            return cached[1]
        counts = {(kind, state): 0 for kind in KINDS for state in ("live", "cancelled")}
        for entry in snapshot.entries.values():
            counts[(entry.kind, "live" if entry.removed_at is None else "cancelled")] += 1
        self._items = (snapshot.version, counts)
        return counts
