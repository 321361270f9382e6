"""`/metrics` (#15): the Prometheus text format from a registry of the app's own; requests
by route class, status and outcome; renders; upstream requests; the live state."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import settings_against
from fake_ll2 import Fault
from prometheus_client.parser import text_string_to_metric_families

from icalfeed import create_app
from icalfeed.base.config import Settings
from icalfeed.base.errors import SnapshotError, UpstreamError
from icalfeed.data import store as store_module
from icalfeed.data.store import Store
from icalfeed.ll2.budget import RequestBudget
from icalfeed.ll2.upstream import LL2Client
from icalfeed.serving.clients import BehindProxy
from icalfeed.serving.fastpath import FeedFastPath
from icalfeed.serving.filebody import FileBodies
from icalfeed.serving.observe import OUTCOMES
from icalfeed.web.metrics import ROUTES, LiveState, Metrics, route_class

ALL = "start=1957-01-01"
FEED = f"/events.ics?{ALL}"


def scrape(client) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Every sample of /metrics: name → {sorted labels: value}."""
    response = client.get("/metrics")
    assert response.status_code == 200
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def requests_counted(client, **labels: str) -> float:
    """The sum of icalfeed_http_requests_total over the series matching `labels`."""
    series = scrape(client).get("icalfeed_http_requests_total", {})
    return sum(
        value
        for key, value in series.items()
        if all((name, wanted) in key for name, wanted in labels.items())
    )


def one(samples, name: str, **labels: str) -> float:
    return samples[name][tuple(sorted(labels.items()))]


# ------------------------------------------------------------------------- the format


def test_metrics_is_the_prometheus_text_format_never_cached(client):
    client.get(FEED)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert response.headers["Cache-Control"] == "no-store"
    names = {f.name for f in text_string_to_metric_families(response.get_data(as_text=True))}
    assert {
        "icalfeed_http_requests",
        "icalfeed_render_duration_seconds",
        "icalfeed_upstream_requests",
        "icalfeed_upstream_budget_remaining",
        "icalfeed_upstream_paused",
        "icalfeed_snapshot_age_seconds",
        "icalfeed_items",
        "icalfeed_stream_pass_failures",
        "icalfeed_leader",
        "icalfeed_role",
        "icalfeed_shared_store_errors",
    } <= names
    # Not the process-wide default registry: no python_gc_*, process_* of other apps.
    assert not any(name.startswith(("python_", "process_")) for name in names)


def test_each_app_counts_only_its_own_requests(settings, tmp_path):
    first = create_app(settings, start_sync=False).test_client()
    second = create_app(replace(settings, data_dir=tmp_path / "two"), start_sync=False)
    first.get("/healthz")
    first.get("/healthz")
    assert requests_counted(first, route="healthz") == 2
    assert requests_counted(second.test_client(), route="healthz") == 0


def test_metrics_off_is_a_404_and_nothing_is_counted(tmp_path):
    settings = Settings.from_env(
        {"ICALFEED_METRICS": "0", "ICALFEED_DATA_DIR": str(tmp_path / "var")}, offline=True
    )
    assert settings.metrics is False
    app = create_app(settings, start_sync=False)
    client = app.test_client()
    assert client.get(FEED).status_code == 200
    response = client.get("/metrics")
    assert response.status_code == 404 and response.data == b"404 not found\n"
    assert app.extensions["icalfeed"].metrics is None


# ------------------------------------------------------------------ requests counted


def test_requests_count_by_route_status_and_outcome(client):
    assert client.get(FEED, buffered=True).status_code == 200  # a new query: rendered
    assert client.get(FEED, buffered=True).status_code == 200  # the same again: fast path
    assert client.head(FEED, buffered=True).status_code == 200  # HEAD too
    # Another representation of the same feed misses the stored answers, not the renders.
    gzipped = client.get(FEED, headers={"Accept-Encoding": "gzip"}, buffered=True)
    assert gzipped.status_code == 200
    assert client.get(f"/events.json?{ALL}", buffered=True).status_code == 200
    assert client.get("/events.ics?program=startship", buffered=True).status_code == 400
    assert client.get("/healthz", buffered=True).status_code == 200
    assert client.get("/", buffered=True).status_code == 200
    assert client.get("/static/site.css", buffered=True).status_code == 200
    series = scrape(client)["icalfeed_http_requests_total"]
    assert series == {
        (("outcome", "rendered"), ("route", "feed_ics"), ("status", "200")): 1,
        (("outcome", "fast"), ("route", "feed_ics"), ("status", "200")): 2,
        (("outcome", "cached"), ("route", "feed_ics"), ("status", "200")): 1,
        (("outcome", "rendered"), ("route", "feed_json"), ("status", "200")): 1,
        (("outcome", "none"), ("route", "feed_ics"), ("status", "400")): 1,
        (("outcome", "none"), ("route", "healthz"), ("status", "200")): 1,
        (("outcome", "rendered"), ("route", "page"), ("status", "200")): 1,
        (("outcome", "none"), ("route", "static"), ("status", "200")): 1,
    }
    # The scrape itself is counted once it is answered.
    assert requests_counted(client, route="metrics", status="200", outcome="none") == 1


def test_a_revalidation_answered_by_flask_is_cached_and_a_304(client):
    # A HEAD renders the feed, but only a GET's answer is stored: the revalidation that
    # follows is Flask's to judge, from the rendered-feed cache.
    etag = client.head(FEED).headers["ETag"]
    headers = {"If-None-Match": etag}
    assert client.get(FEED, headers=headers, buffered=True).status_code == 304
    assert requests_counted(client, route="feed_ics", status="304", outcome="cached") == 1
    assert client.get(FEED, buffered=True).status_code == 200  # stored from now on
    assert client.get(FEED, headers=headers, buffered=True).status_code == 304
    assert requests_counted(client, route="feed_ics", status="304", outcome="fast") == 1


def test_renders_are_timed_and_stored_answers_are_not(client):
    client.get(FEED, buffered=True)
    client.get(FEED, buffered=True)
    client.get(f"/events.json?{ALL}", buffered=True)
    client.get("/widget", buffered=True)
    samples = scrape(client)
    count = samples["icalfeed_render_duration_seconds_count"]
    assert count[(("format", "ics"),)] == 1
    assert count[(("format", "json"),)] == 1
    assert count[(("format", "html"),)] == 1
    assert samples["icalfeed_render_duration_seconds_sum"][(("format", "ics"),)] > 0


@pytest.fixture
def strict(tmp_path, real_admission):
    settings = Settings(
        data_dir=tmp_path / "var", offline=True, client_render_burst=2, client_renders_per_minute=1
    )
    return create_app(settings, start_sync=False).test_client()


def test_refusals_of_the_flood_protections_are_counted_as_refused(strict):
    assert strict.get(FEED, buffered=True).status_code == 200
    assert strict.get(f"{FEED}&alarm=1", buffered=True).status_code == 200
    # Over the bucket: refused before Flask (feeds) and by the page gate.
    assert strict.get(f"{FEED}&alarm=2", buffered=True).status_code == 429
    assert strict.get(f"/events.json?{ALL}", buffered=True).status_code == 429
    assert strict.get("/widget", buffered=True).status_code == 429
    assert strict.get(FEED, buffered=True).status_code == 200  # stored: still served
    assert requests_counted(strict, outcome="refused") == 3
    assert requests_counted(strict, route="feed_ics", status="429", outcome="refused") == 1
    assert requests_counted(strict, route="feed_json", status="429", outcome="refused") == 1
    assert requests_counted(strict, route="widget", status="429", outcome="refused") == 1
    assert requests_counted(strict, route="feed_ics", status="200", outcome="fast") == 1


def test_a_render_refused_inside_flask_is_counted_as_refused(strict):
    # A revalidation passes the fast path's early check; its render meets the gate in Flask.
    for n in range(2):
        strict.get(f"{FEED}&alarm={n + 1}", buffered=True)
    response = strict.get(f"{FEED}&alarm=9", headers={"If-None-Match": '"x"'}, buffered=True)
    assert response.status_code == 429
    assert requests_counted(strict, route="feed_ics", status="429", outcome="refused") == 1


def test_label_values_stay_in_the_fixed_sets_whatever_the_path(client):
    hostile = [
        "/events.ics/../../etc/passwd",
        "/programs/%3Cscript%3E.ics",
        "/programs/a/b.ics",
        "/%0d%0aSet-Cookie:x",
        "/static/../app.py",
        "/" + "x" * 3000,
        "/healthz/extra",
        "/metrics.ics",
        "/EVENTS.ICS",
        "/widget.json",
        *[f"/unique-{n}?q={n}" for n in range(50)],
    ]
    for path in hostile:
        assert client.get(path, buffered=True).status_code < 500, path
    series = scrape(client)["icalfeed_http_requests_total"]
    for key in series:
        labels = dict(key)
        assert labels["route"] in ROUTES and labels["outcome"] in OUTCOMES
        assert labels["status"].isdigit() and len(labels["status"]) == 3
    assert len(series) <= 6  # a few (route, status, outcome) triples, not one per path


def test_route_classes():
    assert route_class("/events.ics") == "feed_ics"
    assert route_class("/launches.ics") == "feed_ics"
    assert route_class("/programs/spacex-starship.ics") == "feed_ics"
    assert route_class("/feed.json") == "feed_json"
    assert route_class("/changes.atom") == route_class("/changes.json") == "changes"
    assert route_class("/") == "page" and route_class("/agencies") == "page"
    assert route_class("/widget") == "widget"
    assert route_class("/static/site.css") == "static"
    assert route_class("/healthz") == "healthz" and route_class("/metrics") == "metrics"
    for other in ("/programs/a/b.ics", "/events.ics/", "/x.ics", "/widget/", "/staticx"):
        assert route_class(other) == "other", other


def test_counting_is_exact_under_concurrent_requests(client):
    client.get(FEED, buffered=True)

    def poll() -> None:
        for _ in range(50):
            client.get(FEED, buffered=True)

    threads = [threading.Thread(target=poll) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert requests_counted(client, route="feed_ics", outcome="fast") == 400


# ------------------------------------------------------------------ upstream requests


def test_upstream_requests_match_what_the_fake_ll2_saw(tmp_path, fake_ll2):
    settings = settings_against(fake_ll2, tmp_path / "var", launches=True, sync_tick_seconds=3600)
    app = create_app(settings, start_sync=True)
    runtime = app.extensions["icalfeed"]
    try:
        deadline = time.monotonic() + 30
        while runtime.scheduler.last_report is None and time.monotonic() < deadline:
            time.sleep(0.05)
        report = runtime.scheduler.last_report
        assert report is not None and report.ok
    finally:
        runtime.scheduler.stop()
    samples = scrape(app.test_client())
    upstream = samples["icalfeed_upstream_requests_total"]
    assert sum(upstream.values()) == len(fake_ll2.requests) == report.requests > 4
    events = [r for r in fake_ll2.requests if "/events/" in r.path]
    launches = [r for r in fake_ll2.requests if "/launches/" in r.path]
    assert one(samples, "icalfeed_upstream_requests_total", kind="events", outcome="ok") == len(
        events
    )
    assert one(samples, "icalfeed_upstream_requests_total", kind="launches", outcome="ok") == len(
        launches
    )
    # The live state after that sync: budget spent, items, the streams' last success.
    assert one(samples, "icalfeed_upstream_budget_used") == len(fake_ll2.requests)
    assert one(samples, "icalfeed_upstream_budget_remaining") == 12 - len(fake_ll2.requests)
    assert one(samples, "icalfeed_upstream_paused") == 0
    assert one(samples, "icalfeed_snapshot_source", source="snapshot") == 1
    assert one(samples, "icalfeed_snapshot_age_seconds") < 60
    snapshot = runtime.store.snapshot
    assert one(samples, "icalfeed_items", kind="event", state="live") == snapshot.count("event")
    assert one(samples, "icalfeed_items", kind="launch", state="cancelled") == 0
    for kind in ("event", "launch"):
        last = one(samples, "icalfeed_stream_last_success_timestamp_seconds", kind=kind)
        assert last == snapshot.sync(kind).succeeded_at.timestamp()
    assert one(samples, "icalfeed_role", role="single") == 1
    assert one(samples, "icalfeed_leader") == 0


@pytest.mark.parametrize(
    ("fault", "outcome"),
    [
        (Fault(404), "http_4xx"),
        (Fault(503), "http_5xx"),
        (Fault(429, headers={"Retry-After": "60"}), "throttled"),
        (Fault(200, body=b"<html>oops</html>"), "error"),
        (Fault(close=True), "error"),
        (Fault(200, body=b"{}", delay=1.0), "timeout"),
    ],
)
def test_each_upstream_outcome_is_told_to_the_hook(tmp_path, fake_ll2, fault, outcome):
    settings = settings_against(fake_ll2, tmp_path / "var", read_timeout=0.3)
    heard: list[tuple[str, str]] = []
    budget = RequestBudget(settings.data_dir, 12)
    client = LL2Client(settings, budget, on_request=lambda *told: heard.append(told))
    client.page("/launches/upcoming/", {})
    fake_ll2.fail_next(fault)
    with pytest.raises(UpstreamError):
        client.page("/events/", {})
    assert heard == [("launches", "ok"), ("events", outcome)]
    assert len(fake_ll2.requests) == 2


def test_no_request_no_count_when_the_budget_is_spent(tmp_path, fake_ll2):
    settings = settings_against(fake_ll2, tmp_path / "var", requests_per_hour=0)
    heard: list[tuple[str, str]] = []
    client = LL2Client(
        settings, RequestBudget(settings.data_dir, 0), on_request=lambda *told: heard.append(told)
    )
    assert client.page("/events/", {}) is None
    assert heard == [] and fake_ll2.requests == []


# ----------------------------------------------------------------------- live state


def test_a_failing_pass_and_storage_errors_show(tmp_path, fake_ll2, monkeypatch):
    settings = settings_against(fake_ll2, tmp_path / "var", sync_tick_seconds=3600)
    app = create_app(settings, start_sync=False)
    runtime = app.extensions["icalfeed"]
    from icalfeed.sync.passes import build_syncer

    syncer = build_syncer(settings, runtime.store, budget=runtime.budget)
    fake_ll2.fail_next(Fault(500))  # the upcoming window (reconcile)
    syncer.run()
    samples = scrape(app.test_client())
    failing = samples["icalfeed_stream_pass_failures"]
    assert failing[(("kind", "event"), ("pass", "reconcile"))] == 1
    assert failing[(("kind", "event"), ("pass", "changes"))] == 0

    def refuse(path: Path, snapshot) -> None:
        raise SnapshotError(f"cannot write {path}: No space left on device")

    monkeypatch.setattr(store_module, "write_snapshot", refuse)
    runtime.store.commit(runtime.store.snapshot)
    samples = scrape(app.test_client())
    assert one(samples, "icalfeed_shared_store_errors_total", store="data_dir") == 1
    assert one(samples, "icalfeed_shared_store_errors_total", store="redis") == 0


def test_a_pause_from_the_upstream_shows(tmp_path, settings):
    app = create_app(settings, start_sync=False)
    until = time.time() + 600
    app.extensions["icalfeed"].budget.pause_until(until)
    samples = scrape(app.test_client())
    assert one(samples, "icalfeed_upstream_paused") == 1
    assert one(samples, "icalfeed_upstream_paused_until_timestamp_seconds") == pytest.approx(until)


def test_without_metrics_or_access_log_nothing_wraps_the_fast_path(tmp_path):
    """Only the hand-over of big bodies to the server and the client's identity sit outside
    it (no observer)."""
    settings = Settings(data_dir=tmp_path / "var", offline=True, metrics=False, access_log=False)
    app = create_app(settings, start_sync=False)
    assert isinstance(app.wsgi_app, FileBodies)
    assert isinstance(app.wsgi_app.app, BehindProxy)
    assert isinstance(app.wsgi_app.app.app, FeedFastPath)


def test_shared_store_failures_and_the_role_read_at_scrape_time(settings):
    class Unreachable:
        """A shared store (Redis) that is down."""

        def read(self) -> bytes | None:
            raise ConnectionError("down")

        def stamp(self) -> str | None:
            raise ConnectionError("down")

        def write(self, body: bytes, stamp: str) -> None:
            raise ConnectionError("down")

    settings.ensure_data_dir()
    store = Store(settings, shared=Unreachable())
    store.load()  # the shared snapshot cannot be read: the sample is served
    store.commit(store.snapshot)  # written to disk, not shared
    role = ["follower"]
    metrics = Metrics()
    metrics.watch(LiveState(store, RequestBudget(settings.data_dir, 12), role=lambda: role[0]))

    def sampled() -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
        text = metrics.exposition().decode()
        return {
            f.name: {tuple(sorted(s.labels.items())): s.value for s in f.samples}
            for f in text_string_to_metric_families(text)
        }

    samples = sampled()
    assert samples["icalfeed_shared_store_errors"][(("store", "redis"),)] == 2
    assert samples["icalfeed_shared_store_errors"][(("store", "data_dir"),)] == 0
    assert samples["icalfeed_role"][(("role", "follower"),)] == 1
    assert samples["icalfeed_leader"][()] == 0
    role[0] = "leader"  # the lease changes hands: the next scrape says so
    samples = sampled()
    assert samples["icalfeed_leader"][()] == 1
    assert samples["icalfeed_role"][(("role", "follower"),)] == 0
