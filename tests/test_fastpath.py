"""The WSGI fast path: repeat feed requests answered from stored responses, never stale."""

from __future__ import annotations

from datetime import timedelta

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
