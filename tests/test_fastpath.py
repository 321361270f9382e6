"""The WSGI fast path: repeat feed requests answered from stored responses, never stale."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from icalendar import Calendar
from ll2data import upstream_events

from icalfeed.data.snapshot import Snapshot
from icalfeed.ll2.models import parse_events
from icalfeed.serving.fastpath import FeedFastPath

URL = "/events.ics?start=1957-01-01"


@pytest.fixture
def layer(app):
    layer = app.wsgi_app
    while not isinstance(layer, FeedFastPath):  # under the request observer (/metrics, log)
        layer = layer.app
    return layer


def test_repeats_are_served_from_the_stored_response(client, layer):
    first = client.get(URL)
    second = client.get(URL)
    assert layer.hits == 1
    assert second.data == first.data
    # The same headers but Date, which the server adds fresh to every answer.
    assert {k: v for k, v in second.headers if k != "Date"} == {
        k: v for k, v in first.headers if k != "Date"
    }
    assert second.headers["Access-Control-Allow-Origin"] == "*"
    assert second.headers["X-Content-Type-Options"] == "nosniff"


def test_conditional_requests_on_the_fast_path(client, layer):
    first = client.get(URL)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    by_tag = client.get(URL, headers={"If-None-Match": f'"other", {etag}'})
    by_date = client.get(URL, headers={"If-Modified-Since": modified})
    changed_tag = client.get(URL, headers={"If-None-Match": '"other"'})
    assert layer.hits == 3
    assert by_tag.status_code == 304 and by_tag.data == b"" and by_tag.headers["ETag"] == etag
    assert "Content-Disposition" not in by_tag.headers
    assert by_date.status_code == 304
    assert changed_tag.status_code == 200 and changed_tag.data == first.data


def test_head_on_the_fast_path(client, layer):
    first = client.get(URL)
    head = client.head(URL)
    assert layer.hits == 1 and head.status_code == 200 and head.data == b""
    assert head.headers["ETag"] == first.headers["ETag"]


def test_gzip_and_plain_are_stored_apart(client, layer):
    plain = client.get(URL)
    zipped = client.get(URL, headers={"Accept-Encoding": "gzip"})
    again = client.get(URL, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    assert again.data == zipped.data and layer.hits == 1


def test_a_new_data_version_is_never_served_stale(app, client, layer):
    before = client.get(URL).data
    store = app.extensions["icalfeed"].store
    changed = dict(
        upstream_events()[0], name="Renamed by a sync", last_updated="2030-01-01T00:00:00Z"
    )
    snapshot, _ = store.snapshot.merge(parse_events([changed]).items, store.clock())
    store.commit(Snapshot(snapshot.entries, snapshot.streams, "snapshot"))
    after = client.get(URL).data
    assert after != before and b"Renamed by a sync" in after
    assert layer.hits == 0


def test_the_next_day_is_never_served_stale(client, layer, monkeypatch):
    client.get("/events.ics")
    store = layer.store
    real = store.clock
    monkeypatch.setattr(store, "clock", lambda: real() + timedelta(days=1))
    client.get("/events.ics")
    assert layer.hits == 0


def test_only_feeds_and_only_successes_are_stored(client, layer):
    for path in ("/healthz", "/", "/widget", "/events.ics?agncy=x", "/programs/nope.ics"):
        client.get(path)
        client.get(path)
    assert layer.hits == 0
    response = client.get("/events.ics?type=docking&year=1999")
    assert Calendar.from_ical(response.data).walk("VEVENT") == []


def test_one_item_calendars_are_stored_and_item_pages_are_not(client, layer):
    for path in ("/launches/e1079d3a-c0a6-4b42-bc1d-92e48a5a78fc.ics", "/events/1327.ics"):
        first = client.get(path)
        again = client.get(path)
        assert first.status_code == 200 and again.data == first.data
    assert layer.hits == 2
    for path in ("/launches/e1079d3a-c0a6-4b42-bc1d-92e48a5a78fc", "/events/1327/x.ics"):
        client.get(path)
        client.get(path)
    assert layer.hits == 2


def stored(client, layer):
    """A plain GET stores the answer; the next requests are the fast path's to answer."""
    first = client.get(URL)
    assert first.status_code == 200 and layer.hits == 0
    return first


def test_if_none_match_star_is_304_on_the_fast_path(client, layer):
    stored(client, layer)
    star = client.get(URL, headers={"If-None-Match": "*"})
    assert layer.hits == 1 and star.status_code == 304 and star.data == b""


def test_weak_tags_match_on_the_fast_path(client, layer):
    """If-None-Match compares weakly (RFC 9110 §13.1.2): W/"<our tag>" is our tag."""
    etag = stored(client, layer).headers["ETag"]
    weak = client.get(URL, headers={"If-None-Match": f"W/{etag}"})
    listed = client.get(URL, headers={"If-None-Match": f'W/"other", W/{etag}'})
    other = client.get(URL, headers={"If-None-Match": 'W/"other"'})
    assert layer.hits == 3
    assert weak.status_code == 304 and listed.status_code == 304
    assert other.status_code == 200 and other.headers["ETag"] == etag


def test_if_modified_since_on_the_fast_path(client, layer):
    first = stored(client, layer)
    modified = parsedate_to_datetime(first.headers["Last-Modified"])
    earlier = format_datetime(modified - timedelta(seconds=1), usegmt=True)
    later = format_datetime(modified + timedelta(days=1), usegmt=True)
    assert client.get(URL, headers={"If-Modified-Since": earlier}).status_code == 200
    assert client.get(URL, headers={"If-Modified-Since": later}).status_code == 304
    # If-None-Match decides when both are sent (RFC 9110 §13.1.3).
    both = {"If-None-Match": '"other"', "If-Modified-Since": later}
    assert client.get(URL, headers=both).status_code == 200
    assert layer.hits == 3


@pytest.mark.parametrize("fast", [False, True], ids=["through-flask", "stored"])
def test_if_unmodified_since_before_the_last_change_is_412(client, layer, fast):
    """RFC 9110 §13.1.4: a client that would act on the feed as it was at a date before its
    last change is told 412, whether or not the answer is stored."""
    probe = client.get(URL, headers={"If-None-Match": '"probe"'})  # never stored
    if fast:
        stored(client, layer)
    modified = parsedate_to_datetime(probe.headers["Last-Modified"])
    before = format_datetime(modified - timedelta(seconds=1), usegmt=True)
    since = format_datetime(modified, usegmt=True)
    failed = client.get(URL, headers={"If-Unmodified-Since": before})
    assert failed.status_code == 412 and failed.data == b"412 precondition failed\n"
    held = client.get(URL, headers={"If-Unmodified-Since": since})
    assert held.status_code == 200 and held.data == probe.data
    assert layer.hits == 0  # preconditions always go to Flask


@pytest.mark.parametrize("fast", [False, True], ids=["through-flask", "stored"])
def test_if_match(client, layer, fast):
    """RFC 9110 §13.1.1: strong comparison, and "*" matches a feed that exists."""
    probe = client.get(URL, headers={"If-None-Match": '"probe"'})
    if fast:
        stored(client, layer)
    etag = probe.headers["ETag"]
    for header, status in (
        ("*", 200),
        (etag, 200),
        (f'"other", {etag}', 200),
        (f"W/{etag}", 412),  # a weak tag never matches strongly
        ('"other"', 412),
    ):
        response = client.get(URL, headers={"If-Match": header})
        assert response.status_code == status, header
    # If-Match holds, If-None-Match then decides: the client has these bytes.
    both = client.get(URL, headers={"If-Match": etag, "If-None-Match": etag})
    assert both.status_code == 304
    # If-Match decides; If-Unmodified-Since is then ignored (§13.2.2).
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get(URL, headers={"If-Match": etag, "If-Unmodified-Since": old}).status_code == (
        200
    )
    assert layer.hits == 0


def test_a_gzipped_answer_has_its_own_tag_for_preconditions(client):
    zipped = client.get(URL, headers={"Accept-Encoding": "gzip"})
    plain = client.get(URL)
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    gz = {"Accept-Encoding": "gzip"}
    assert client.get(URL, headers={**gz, "If-Match": zipped.headers["ETag"]}).status_code == 200
    assert client.get(URL, headers={**gz, "If-Match": plain.headers["ETag"]}).status_code == 412
    assert (
        client.get(URL, headers={**gz, "If-None-Match": zipped.headers["ETag"]}).status_code == 304
    )
