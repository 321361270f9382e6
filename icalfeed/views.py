"""HTTP routes.  Thin: parse the query, select, render, answer with cache headers."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from . import ics
from .errors import QueryError
from .filters import FeedQuery, feed_day, select
from .runtime import current_runtime
from .snapshot import Entry, Snapshot
from .store import utcnow

feeds = Blueprint("feeds", __name__)
health = Blueprint("health", __name__)
pages = Blueprint("pages", __name__)
EXAMPLES = (
    ("Dockings", "type=docking"),
    ("SpaceX", "agency=spacex"),
    ("SpaceX Starship, known dates only", "program=spacex-starship&vague=hide"),
)
# Seconds a client should wait before asking again when there is no data at all.
RETRY_AFTER_SECONDS = 300


@feeds.get("/events.ics")
def events_ics() -> Response:
    runtime = current_runtime()
    snapshot = runtime.store.snapshot
    if not snapshot.entries:
        return _no_data()
    try:
        query = FeedQuery.from_args(request.args)
    except QueryError as exc:
        return _bad_request(exc)
    day = feed_day(utcnow())
    entries = select(snapshot, query, day)
    body = runtime.feeds.get(
        ("ics", query.canonical(), snapshot.version, day),
        lambda: ics.render(entries, query.calendar_meta()),
    )
    return calendar_response(body, last_modified(snapshot, entries))


@pages.get("/")
def index() -> str:
    snapshot = current_runtime().store.snapshot
    return render_template(
        "index.html",
        feed_url=url_for("feeds.events_ics", _external=True),
        examples=EXAMPLES,
        events=len(snapshot.entries),
        source=snapshot.source,
    )


@health.get("/healthz")
def healthz() -> tuple[Response, int]:
    runtime = current_runtime()
    snapshot = runtime.store.snapshot
    now = utcnow()
    synced = snapshot.sync.succeeded_at or snapshot.saved_at
    budget = runtime.budget.status()
    report = runtime.scheduler.last_report if runtime.scheduler else None
    if not snapshot.entries:
        status = "unavailable"
    elif runtime.store.last_error or snapshot.source != "snapshot":
        status = "degraded"
    else:
        status = "ok"
    body = {
        "status": status,
        "source": snapshot.source,
        "events": len(snapshot.entries),
        "data_version": snapshot.version,
        "snapshot_age_seconds": round((now - synced).total_seconds()) if synced else None,
        "last_sync": _iso(snapshot.sync.succeeded_at),
        "last_error": runtime.store.last_error,
        "offline": runtime.settings.offline,
        "backfill_complete": snapshot.sync.backfill_complete,
        "last_sync_summary": report.line() if report else None,
        "budget": {
            "requests_per_hour": budget.limit,
            "used_last_hour": budget.used,
            "remaining": budget.remaining,
            "paused_until": _iso_ts(budget.paused_until),
            "next_request_at": _iso_ts(budget.next_request_at),
        },
    }
    return jsonify(body), 503 if status == "unavailable" else 200


def last_modified(snapshot: Snapshot, entries: list[Entry]) -> datetime:
    stamps = [e.event.last_updated or e.first_seen for e in entries]
    newest = max(stamps) if stamps else snapshot.saved_at
    return newest or datetime(2000, 1, 1, tzinfo=UTC)


def calendar_response(body: bytes, modified: datetime) -> Response:
    """200 with a strong ETag from the bytes, or 304 when the client has them already."""
    response = Response(body, mimetype="text/calendar")
    response.content_type = "text/calendar; charset=utf-8"
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.last_modified = modified
    response.cache_control.public = True
    response.cache_control.max_age = current_runtime().settings.cache_max_age
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Content-Disposition"] = 'inline; filename="events.ics"'
    return response.make_conditional(request)


def _bad_request(exc: QueryError) -> Response:
    return Response(f"400 {exc}\n", status=400, mimetype="text/plain")


def _no_data() -> Response:
    response = Response(
        "503 no event data yet: the first sync has not finished and no sample is available\n",
        status=503,
        mimetype="text/plain",
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _iso_ts(value: float | None) -> str | None:
    if value is None or value == float("inf"):
        return None
    return _iso(datetime.fromtimestamp(value, UTC))
