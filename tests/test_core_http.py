"""The fast path, the preconditions and Last-Modified as units (#35): a stand-in app behind
FeedFastPath, `conditional.evaluate` on bare environs, `AnswerDates` on its own. Pure and
fast, beside the same rules through the routes (tests/test_fastpath.py,
tests/test_change_signals.py), so `make mutation` runs them against every mutant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from icalfeed.feeds.freshness import AnswerDates
from icalfeed.serving import fastpath
from icalfeed.serving.admission import Refused
from icalfeed.serving.fastpath import FeedFastPath, encoding_choice
from icalfeed.web.conditional import NOT_MODIFIED, PRECONDITION_FAILED, evaluate

MODIFIED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
LAST_MODIFIED = format_datetime(MODIFIED, usegmt=True)


class Store:
    """Just what the fast path reads of a store: the snapshot's version and the clock."""

    def __init__(self) -> None:
        self.snapshot = type("Snapshot", (), {"version": "v1"})()
        self.now = datetime(2026, 11, 25, 12, tzinfo=UTC)

    def clock(self) -> datetime:
        return self.now


class App:
    """A stand-in for Flask: answers 200 with an ETag (or what it is told), and counts."""

    def __init__(self) -> None:
        self.calls = 0
        self.status = "200 OK"
        self.body = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
        self.headers = [
            ("Content-Type", "text/calendar; charset=utf-8"),
            ("ETag", '"tag1"'),
            ("Last-Modified", LAST_MODIFIED),
            ("Date", "Wed, 25 Nov 2026 12:00:00 GMT"),
            ("Cache-Control", "public, max-age=900"),
            ("Content-Disposition", 'inline; filename="x.ics"'),
        ]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.calls += 1
        start_response(self.status, list(self.headers))
        return [self.body[:10], self.body[10:]]


class Answer:
    def __init__(self, layer: FeedFastPath, path: str = "/events.ics", **environ: str) -> None:
        base = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": ""}
        self.environ: dict[str, Any] = {**base, **environ}
        seen: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            seen["status"], seen["headers"] = status, headers

        self.body = b"".join(layer(self.environ, start_response))
        self.status: str = seen["status"]
        self.headers = dict(seen["headers"])


@pytest.fixture
def app() -> App:
    return App()


@pytest.fixture
def layer(app: App) -> FeedFastPath:
    return FeedFastPath(app, Store())  # type: ignore[arg-type]


def test_a_repeat_is_answered_without_the_app(app, layer):
    first = Answer(layer)
    again = Answer(layer)
    assert app.calls == 1 and layer.hits == 1
    assert first.body == again.body == app.body and again.status == "200 OK"
    assert "Date" not in again.headers  # the server dates each answer itself
    assert again.environ[fastpath.OUTCOME] == "fast"
    head = Answer(layer, REQUEST_METHOD="HEAD")
    assert head.status == "200 OK" and head.body == b"" and app.calls == 1


@pytest.mark.parametrize(
    "path",
    [
        "/events.ics",
        "/events.json",
        "/launches.ics",
        "/launches.json",
        "/feed.ics",
        "/feed.json",
        "/programs/spacex-starship.ics",
        "/agencies/nasa.ics",
        "/types/docking.ics",
    ],
)
def test_every_feed_path_is_stored(app, layer, path):
    Answer(layer, path)
    Answer(layer, path)
    assert app.calls == 1


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/events.ics", "POST"),
        ("/events.ics", "DELETE"),
        ("/", "GET"),
        ("/widget", "GET"),
        ("/events.ics/x", "GET"),
        ("/programs/a/b.ics", "GET"),
        ("/programs/x.json", "GET"),
        ("/events.icsx", "GET"),
        ("/healthz", "HEAD"),
    ],
)
def test_nothing_else_is_stored(app, layer, path, method):
    Answer(layer, path, REQUEST_METHOD=method)
    Answer(layer, path, REQUEST_METHOD=method)
    assert app.calls == 2 and layer.hits == 0


def test_a_request_without_a_path_goes_to_the_app(app, layer):
    seen: dict[str, Any] = {}
    environ = {"REQUEST_METHOD": "GET"}
    body = layer(environ, lambda status, headers, exc_info=None: seen.update(status=status))
    assert b"".join(body) == app.body and app.calls == 1 and seen["status"] == "200 OK"


@pytest.mark.parametrize("header", ["HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE"])
def test_state_changing_preconditions_always_go_to_the_app(app, layer, header):
    Answer(layer)
    Answer(layer, **{header: '"tag1"'})
    assert app.calls == 2 and layer.hits == 0


def test_only_plain_successful_gets_with_a_tag_are_stored(app, layer):
    Answer(layer, REQUEST_METHOD="HEAD")
    Answer(layer, HTTP_IF_NONE_MATCH='"other"')
    Answer(layer, HTTP_IF_MODIFIED_SINCE=LAST_MODIFIED)
    assert app.calls == 3 and layer.hits == 0
    app.status = "404 NOT FOUND"
    Answer(layer, "/programs/nope.ics")
    Answer(layer, "/programs/nope.ics")
    assert app.calls == 5
    app.status = "200 OK"
    app.headers = [h for h in app.headers if h[0] != "ETag"]
    Answer(layer, "/types/docking.ics")
    Answer(layer, "/types/docking.ics")
    assert app.calls == 7 and layer.hits == 0


def test_a_body_too_big_to_keep_goes_through_each_time(app, layer, monkeypatch):
    monkeypatch.setattr(fastpath, "MAX_BYTES", len(app.body) + 1024)
    Answer(layer)
    Answer(layer)
    assert layer.hits == 1
    monkeypatch.setattr(fastpath, "MAX_BYTES", len(app.body) + 1023)
    Answer(layer, "/feed.ics")
    Answer(layer, "/feed.ics")
    assert layer.hits == 1 and app.calls == 3


def test_a_new_version_or_day_is_never_answered_from_what_is_stored(app, layer):
    Answer(layer)
    layer.store.snapshot = type("Snapshot", (), {"version": "v2"})()
    Answer(layer)
    layer.store.now += timedelta(days=1)
    Answer(layer)
    layer.store.now += timedelta(hours=1)  # the same day as the last answer
    Answer(layer)
    assert app.calls == 3 and layer.hits == 1


def test_tracking_parameters_and_encodings_share_keys(app, layer):
    Answer(layer, QUERY_STRING="type=docking&utm_source=x")
    Answer(layer, QUERY_STRING="type=docking")
    Answer(layer, QUERY_STRING="type=docking", HTTP_ACCEPT_ENCODING="gzip, deflate")
    Answer(layer, QUERY_STRING="type=docking", HTTP_ACCEPT_ENCODING="deflate, gzip;q=0.5")
    Answer(layer, QUERY_STRING="type=docking", HTTP_ACCEPT_ENCODING="gzip;q=0")
    assert app.calls == 2 and layer.hits == 3


def test_encoding_choice_however_spelt():
    assert encoding_choice("") == "identity"
    assert encoding_choice("gzip") == "gzip"
    assert encoding_choice("GZIP, br") == "gzip"
    assert encoding_choice("gzip;q=0") == "identity"
    assert encoding_choice("br, deflate") == "identity"
    long = "x-" + "a" * 300 + ", gzip;q=0.1"
    assert len(long) > 200 and encoding_choice(long) == "gzip"
    assert encoding_choice("x-" + "a" * 300 + ", gzip;q=0") == "identity"
    assert encoding_choice("x-" + "a" * 300) == "identity"
    edge = "x-" + "a" * (200 - len("x-, gzip")) + ", gzip"
    assert len(edge) == 200 and encoding_choice(edge) == "gzip"
    assert encoding_choice(edge + "x") == "identity"  # 201 characters: "gzipx"


def test_conditional_answers_on_the_fast_path(app, layer):
    Answer(layer)
    not_modified = Answer(layer, HTTP_IF_NONE_MATCH='"x" ,  "tag1"')
    assert not_modified.status == "304 Not Modified" and not_modified.body == b""
    assert set(not_modified.headers) == {"ETag", "Last-Modified", "Cache-Control"}
    assert Answer(layer, HTTP_IF_NONE_MATCH="*").status.startswith("304")
    assert Answer(layer, HTTP_IF_NONE_MATCH='W/"tag1"').status.startswith("304")
    assert Answer(layer, HTTP_IF_NONE_MATCH='"tag2"').status.startswith("200")
    assert Answer(layer, HTTP_IF_NONE_MATCH='"tag1" "tag2"').status.startswith("200")
    later = format_datetime(MODIFIED + timedelta(seconds=1), usegmt=True)
    earlier = format_datetime(MODIFIED - timedelta(seconds=1), usegmt=True)
    assert Answer(layer, HTTP_IF_MODIFIED_SINCE=LAST_MODIFIED).status.startswith("304")
    assert Answer(layer, HTTP_IF_MODIFIED_SINCE=later).status.startswith("304")
    assert Answer(layer, HTTP_IF_MODIFIED_SINCE=earlier).status.startswith("200")
    assert Answer(layer, HTTP_IF_MODIFIED_SINCE="yesterday").status.startswith("200")
    both = Answer(layer, HTTP_IF_NONE_MATCH='"tag2"', HTTP_IF_MODIFIED_SINCE=later)
    assert both.status.startswith("200")
    assert app.calls == 1


def test_an_answer_without_a_date_is_never_304_by_date(app, layer):
    app.headers = [h for h in app.headers if h[0] != "Last-Modified"]
    Answer(layer)
    assert Answer(layer, HTTP_IF_MODIFIED_SINCE=LAST_MODIFIED).status.startswith("200")
    assert Answer(layer, HTTP_IF_NONE_MATCH='"tag1"').status.startswith("304")


def test_early_refusals_spare_the_app_but_never_a_revalidation(app):
    refusal = Refused(429, 2.5, "too many new queries")
    layer = FeedFastPath(app, Store(), early=lambda environ: refusal)  # type: ignore[arg-type]
    refused = Answer(layer)
    assert refused.status == "429 Too Many Requests" and app.calls == 0
    assert refused.body == b"429 too many new queries; retry after 3 s\n"
    assert refused.headers["Retry-After"] == "3" and refused.environ[fastpath.OUTCOME] == "refused"
    assert Answer(layer, HTTP_IF_NONE_MATCH='"x"').status == "200 OK"
    assert Answer(layer, HTTP_IF_MODIFIED_SINCE=LAST_MODIFIED).status == "200 OK"
    assert app.calls == 2
    allowed = FeedFastPath(app, Store(), early=lambda environ: None)  # type: ignore[arg-type]
    assert Answer(allowed).status == "200 OK" and app.calls == 3


# --------------------------------------------------------------- preconditions, bare


def env(**headers: str) -> dict[str, str]:
    return {"REQUEST_METHOD": headers.pop("method", "GET"), **headers}


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"HTTP_IF_MATCH": '"t"'}, None),
        ({"HTTP_IF_MATCH": "*"}, None),
        ({"HTTP_IF_MATCH": '"a", "t"'}, None),
        ({"HTTP_IF_MATCH": 'W/"t"'}, PRECONDITION_FAILED),
        ({"HTTP_IF_MATCH": '"a"'}, PRECONDITION_FAILED),
        ({"HTTP_IF_MATCH": ""}, PRECONDITION_FAILED),
        ({"HTTP_IF_UNMODIFIED_SINCE": "Sun, 01 Nov 2026 12:00:00 GMT"}, None),
        ({"HTTP_IF_UNMODIFIED_SINCE": "Sun, 01 Nov 2026 11:59:59 GMT"}, PRECONDITION_FAILED),
        ({"HTTP_IF_UNMODIFIED_SINCE": "not a date"}, None),
        (
            {"HTTP_IF_MATCH": '"t"', "HTTP_IF_UNMODIFIED_SINCE": "Sun, 01 Nov 2026 11:00:00 GMT"},
            None,
        ),
        ({"HTTP_IF_NONE_MATCH": '"t"'}, NOT_MODIFIED),
        ({"HTTP_IF_NONE_MATCH": 'W/"t"'}, NOT_MODIFIED),
        ({"HTTP_IF_NONE_MATCH": "*"}, NOT_MODIFIED),
        ({"HTTP_IF_NONE_MATCH": '"a"'}, None),
        ({"HTTP_IF_NONE_MATCH": '"t"', "method": "HEAD"}, NOT_MODIFIED),
        ({"HTTP_IF_NONE_MATCH": '"t"', "method": "POST"}, PRECONDITION_FAILED),
        (
            {
                "HTTP_IF_NONE_MATCH": '"a"',
                "HTTP_IF_MODIFIED_SINCE": "Sun, 01 Nov 2026 13:00:00 GMT",
            },
            None,
        ),
        ({"HTTP_IF_MODIFIED_SINCE": "Sun, 01 Nov 2026 12:00:00 GMT"}, NOT_MODIFIED),
        ({"HTTP_IF_MODIFIED_SINCE": "Sun, 01 Nov 2026 11:59:59 GMT"}, None),
        ({"HTTP_IF_MODIFIED_SINCE": "Sun, 01 Nov 2026 12:00:00 GMT", "method": "POST"}, None),
        ({"HTTP_IF_MODIFIED_SINCE": "nonsense"}, None),
        ({"HTTP_IF_MATCH": '"a"', "HTTP_IF_NONE_MATCH": '"t"'}, PRECONDITION_FAILED),
        ({"HTTP_IF_MATCH": '"t"', "HTTP_IF_NONE_MATCH": '"t"'}, NOT_MODIFIED),
    ],
)
def test_preconditions_in_the_order_rfc_9110_gives(headers, expected):
    assert evaluate(env(**headers), "t", MODIFIED) == expected


def test_without_a_date_no_date_precondition_holds_against_it():
    old = "Sun, 01 Nov 2026 11:00:00 GMT"
    assert evaluate(env(HTTP_IF_UNMODIFIED_SINCE=old), "t", None) is None
    assert evaluate(env(HTTP_IF_MODIFIED_SINCE=old), "t", None) is None
    assert evaluate(env(HTTP_IF_NONE_MATCH='"t"'), "t", None) == NOT_MODIFIED


# -------------------------------------------------------------------- Last-Modified


def test_the_same_bytes_keep_their_date_and_other_bytes_move_it_on():
    dates = AnswerDates()
    now = MODIFIED + timedelta(hours=1)
    assert dates.last_modified("q", "a", MODIFIED, now) == MODIFIED
    # The same bytes, whatever the data's date says now: the date they were first given.
    assert dates.last_modified("q", "a", MODIFIED + timedelta(minutes=5), now) == MODIFIED
    # Other bytes from data no newer: a second after the last answer, never its date.
    assert dates.last_modified("q", "b", MODIFIED, now) == MODIFIED + timedelta(seconds=1)
    # ... or the data's own date when later.
    later = MODIFIED + timedelta(minutes=10)
    assert dates.last_modified("q", "c", later, now) == later
    # Each query by itself.
    assert dates.last_modified("r", "c", MODIFIED, now) == MODIFIED


def test_a_date_is_never_after_now():
    dates = AnswerDates()
    assert dates.last_modified("q", "a", MODIFIED, MODIFIED) == MODIFIED
    assert dates.last_modified("q", "b", MODIFIED, MODIFIED) is None  # it would be 12:00:01
    assert dates.last_modified("q", "b", MODIFIED, MODIFIED + timedelta(seconds=1)) == (
        MODIFIED + timedelta(seconds=1)
    )
    assert dates.last_modified("r", "a", MODIFIED, MODIFIED - timedelta(seconds=1)) is None


def test_each_query_string_has_its_own_answer(app, layer):
    Answer(layer, QUERY_STRING="type=docking")
    Answer(layer, QUERY_STRING="type=eva")
    Answer(layer, QUERY_STRING="")
    assert app.calls == 3 and layer.hits == 0
    seen: dict[str, Any] = {}
    bare = {"REQUEST_METHOD": "GET", "PATH_INFO": "/events.ics"}  # no QUERY_STRING at all
    layer(bare, lambda status, headers, exc_info=None: seen.update(status=status))
    assert seen["status"] == "200 OK" and app.calls == 3 and layer.hits == 1


def test_the_day_turns_at_midnight_utc(app, layer):
    layer.store.now = datetime(2026, 11, 25, 23, 59, 59, tzinfo=UTC)
    Answer(layer)
    layer.store.now = datetime(2026, 11, 26, 0, 0, 0, tzinfo=UTC)
    Answer(layer)
    assert app.calls == 2 and layer.hits == 0
    layer.store.now = datetime(2026, 11, 26, 23, 59, 59, tzinfo=UTC)
    Answer(layer)
    assert app.calls == 2 and layer.hits == 1


def test_the_apps_exc_info_and_close_are_passed_on(app):
    closed: list[bool] = []
    error = (RuntimeError, RuntimeError("late"), None)

    class Closing(list):
        def close(self) -> None:
            closed.append(True)

    def wsgi(environ: dict[str, Any], start_response: Any) -> Closing:
        start_response("200 OK", list(app.headers), error)
        return Closing([app.body])

    layer = FeedFastPath(wsgi, Store())  # type: ignore[arg-type]
    seen: dict[str, Any] = {}
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/events.ics", "QUERY_STRING": ""}
    body = layer(environ, lambda status, headers, exc_info=None: seen.update(exc_info=exc_info))
    assert b"".join(body) == app.body
    assert seen["exc_info"] is error and closed == [True]


def test_remembered_dates_are_bounded_by_what_they_cost():
    from icalfeed.base.segmented import OBJECT_BYTES, footprint

    key, etag = ("ics", "type=docking", 2000), '"0123456789"'
    cost = footprint(key) + len(etag) + 3 * OBJECT_BYTES
    later = MODIFIED + timedelta(minutes=5)
    now = MODIFIED + timedelta(hours=1)
    fits = AnswerDates(max_bytes=cost)
    fits.last_modified(key, etag, MODIFIED, now)
    # Remembered: the same bytes keep their first date.
    assert fits.last_modified(key, etag, later, now) == MODIFIED
    too_small = AnswerDates(max_bytes=cost - 1)
    too_small.last_modified(key, etag, MODIFIED, now)
    # Not remembered: dated by its data alone.
    assert too_small.last_modified(key, etag, later, now) == later
    # A longer tag costs more: the same room no longer holds it.
    longer = AnswerDates(max_bytes=cost)
    longer.last_modified(key, etag + "x", MODIFIED, now)
    assert longer.last_modified(key, etag + "x", later, now) == later
    # Entries are charged what they cost: two fit in twice the room, not a third.
    two = AnswerDates(max_bytes=2 * cost)
    for query in ("type=dockinh", "type=dockini", "type=dockinj"):
        two.last_modified(("ics", query, 2000), etag, MODIFIED, now)
    remembered = [  # newest first: asking about the oldest brings it back in
        two.last_modified(("ics", query, 2000), etag, later, now) == MODIFIED
        for query in ("type=dockinj", "type=dockini", "type=dockinh")
    ]
    assert remembered == [True, True, False]
