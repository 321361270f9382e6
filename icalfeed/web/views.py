"""HTTP routes.  Thin: parse the query, select, render, answer with cache headers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, Response, abort, jsonify, request

from ..base.errors import QueryError
from ..base.freememory import BIG_BODY, release_free_memory
from ..data.snapshot import Snapshot
from ..data.store import utcnow
from ..feeds.changefeeds import render_changes
from ..feeds.output import Rendered, render_feed
from ..feeds.query import EVENTS_ONLY, EVERYTHING, LAUNCHES_ONLY, FeedQuery
from ..feeds.select import feed_day
from ..serving.admission import Refused
from ..serving.observe import mark
from . import conditional
from .disposition import content_disposition
from .guards import plain, refused
from .health import safe_health_report
from .metrics import CONTENT_TYPE
from .pages import changes_links
from .runtime import current_runtime

feeds = Blueprint("feeds", __name__)
health = Blueprint("health", __name__)
# Seconds a client should wait before asking again when there is no data at all.
RETRY_AFTER_SECONDS = 300


@feeds.get("/events.ics")
def events_ics() -> Response:
    return _feed("ics")


@feeds.get("/events.json")
def events_json() -> Response:
    return _feed("json")


@feeds.get("/launches.ics")
def launches_ics() -> Response:
    return _feed("ics", include=LAUNCHES_ONLY)


@feeds.get("/launches.json")
def launches_json() -> Response:
    return _feed("json", include=LAUNCHES_ONLY)


@feeds.get("/feed.ics")
def combined_ics() -> Response:
    return _feed("ics", include=EVERYTHING)


@feeds.get("/feed.json")
def combined_json() -> Response:
    return _feed("json", include=EVERYTHING)


@feeds.get("/programs/<key>.ics")
def program_ics(key: str) -> Response:
    return _feed("ics", fixed=("program", key))


@feeds.get("/agencies/<key>.ics")
def agency_ics(key: str) -> Response:
    return _feed("ics", fixed=("agency", key))


@feeds.get("/types/<key>.ics")
def type_ics(key: str) -> Response:
    return _feed("ics", fixed=("type", key))


def _feed(
    fmt: str, fixed: tuple[str, str] | None = None, include: frozenset[str] = EVENTS_ONLY
) -> Response:
    """Parse → select → render (cached) → answer, for every feed route; `include` is what
    the route shows unless the query says (``include=events,launches``)."""
    runtime = current_runtime()
    snapshot = runtime.store.snapshot
    if not snapshot.entries:
        return no_data()
    pairs = list(request.args.items(multi=True))
    if fixed is not None:
        param, key = fixed
        kinds = snapshot.catalog
        kind = {"program": kinds.programs, "agency": kinds.agencies, "type": kinds.types}[param]
        try:
            pairs.append((param, str(kind.resolve(key))))  # one name, never blank or a list
        except QueryError as exc:
            return plain(404, str(exc))
    try:
        query = FeedQuery.from_args(pairs, snapshot.catalog, include)
    except QueryError as exc:
        return plain(400, str(exc))
    limit = runtime.settings.max_events

    def make(day: datetime) -> Rendered:
        pieces, fragments = runtime.vevents.get, runtime.fragments.get
        return render_feed(fmt, snapshot, query, day, limit, pieces, fragments)

    return answer_feed(fmt, snapshot, (fmt, query.canonical(), limit), make)


@feeds.get("/changes.atom")
def changes_atom() -> Response:
    return _changes("atom")


@feeds.get("/changes.json")
def changes_json() -> Response:
    return _changes("json")


def _changes(fmt: str) -> Response:
    """What changed in a selection (the feeds' parameters; both kinds unless `include`
    narrows), as Atom or JSON Feed; cached and conditional like the calendars."""
    runtime = current_runtime()
    snapshot = runtime.store.snapshot
    if not snapshot.entries:
        return no_data()
    try:
        query = FeedQuery.from_args(request.args.items(multi=True), snapshot.catalog, EVERYTHING)
    except QueryError as exc:
        return plain(400, str(exc))
    links = changes_links(query, snapshot)

    def make(day: datetime) -> Rendered:
        return render_changes(fmt, snapshot, query, day, links)

    # The links are absolute: the stored feed is kept per public address.
    return answer_feed(fmt, snapshot, (f"changes-{fmt}", query.canonical(), links.base), make)


def answer_feed(
    fmt: str, snapshot: Snapshot, key: tuple[object, ...], make: Callable[[datetime], Rendered]
) -> Response:
    """The feed `make` renders from `snapshot` for today, from the cache (kept per `key`,
    the snapshot's version and the day; one render for concurrent misses, admitted per
    client), with its Last-Modified kept per `key`: every feed route answers through it."""
    runtime = current_runtime()
    now = runtime.store.clock()
    day = feed_day(now)
    client = runtime.client_key(request.environ)

    def render() -> Rendered:
        mark(request.environ, "rendered")
        zipped = request.accept_encodings["gzip"] > 0

        def work() -> Rendered:
            feed = make(day)
            if zipped:  # compressed on the render thread too: its big buffers stay there
                feed.gzipped  # noqa: B018 (computed and kept)
            if len(feed.body) >= BIG_BODY:  # its temporaries leave holes as big
                release_free_memory()
            return feed

        return runtime.admission.run(client, lambda: runtime.timed(fmt, work))

    mark(request.environ, "cached")  # unless `render` runs
    try:
        feed = runtime.feeds.get((*key, snapshot.version, day), render)
    except Refused as refusal:
        mark(request.environ, "refused")
        return refused(refusal)
    modified = runtime.answers.last_modified(
        key, feed.etag, max(feed.changed_at, runtime.started_at), now
    )
    return feed_response(feed, fmt, modified)


@health.get("/healthz")
def healthz() -> tuple[Response, int]:
    body, status = safe_health_report(current_runtime(), utcnow())
    return jsonify(body), status


@health.get("/metrics")
def metrics() -> Response:
    """Prometheus text format: this process's counters and the shared facts (README,
    "Operations"); 404 with ICALFEED_METRICS=0. Cheap, so not admitted; never cached."""
    collected = current_runtime().metrics
    if collected is None:
        abort(404)
    response = Response(collected.exposition(), content_type=CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


def feed_response(feed: Rendered, fmt: str, modified: datetime | None) -> Response:
    """200 with a strong ETag and `modified` as Last-Modified, 304 when the client has these
    bytes already, 412 when a precondition fails (If-Match, If-Unmodified-Since); gzipped
    for clients that accept it (a different representation, so a different ETag)."""
    zipped = request.accept_encodings["gzip"] > 0
    etag = feed.etag + ("-gz" if zipped else "")
    decided = conditional.evaluate(request.environ, etag, modified)
    if decided == conditional.PRECONDITION_FAILED:
        return plain(412, "precondition failed")
    response = Response(feed.gzipped if zipped else feed.body)
    if fmt == "json":
        response.content_type = "application/json"
    elif fmt == "atom":
        response.content_type = "application/atom+xml; charset=utf-8"
    else:
        response.content_type = "text/calendar; charset=utf-8"
        response.headers["Content-Disposition"] = content_disposition(feed.filename, feed.title)
    response.set_etag(etag)
    if zipped:
        response.content_encoding = "gzip"
    response.vary.add("Accept-Encoding")
    if modified is not None:
        response.last_modified = modified
    response.cache_control.public = True
    response.cache_control.max_age = current_runtime().settings.cache_max_age
    response.headers["Access-Control-Allow-Origin"] = "*"
    # Date and Content-Length; the preconditions were judged above (`conditional`), so
    # werkzeug is shown none of them.
    response.make_conditional({"REQUEST_METHOD": request.method})
    if decided == conditional.NOT_MODIFIED:
        response.status_code = 304
    return response


def no_data() -> Response:
    """503 with Retry-After: no snapshot, no sample (upstream down on a first start)."""
    response = plain(
        503, "no event data yet: the first sync has not finished and no sample is available"
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
