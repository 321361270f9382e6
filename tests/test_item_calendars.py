"""Follow one item (#34): `/launches/<uuid>.ics` and `/events/<id>.ics` hold exactly the
VEVENT every feed gives the item (UID, SEQUENCE, bytes), whatever its date, cancelled in
the grace period, with the feeds' HTTP and stored answers."""

from __future__ import annotations

import re
import urllib.request
from datetime import timedelta

import pytest
from conftest import validate_ics
from flask.testing import FlaskClient
from icalendar import Calendar
from itemdata import (
    MOVED,
    NOW,
    PAST,
    PLAIN,
    REMOVED,
    ROLLOUT,
    VAGUE,
    client_for,
    item_snapshot,
    moved,
    raw_launches,
)
from servers import serve_offline

from icalfeed.data.snapshot import Snapshot
from icalfeed.data.store import utcnow
from icalfeed.ll2.models import parse_launches
from icalfeed.serving.fastpath import FeedFastPath

ALL = "start=1957-01-01"


@pytest.fixture
def items(tmp_path) -> FlaskClient:
    return client_for(tmp_path, item_snapshot())


def vevents(body: bytes) -> dict[str, bytes]:
    """Each VEVENT of a calendar as its exact bytes, by UID."""
    blocks = re.findall(rb"BEGIN:VEVENT\r\n.*?END:VEVENT\r\n", body, re.S)
    return {re.search(rb"\r\nUID:([^\r]+)", b).group(1).decode(): b for b in blocks}


@pytest.mark.parametrize(
    ("path", "feed"),
    [
        (f"/launches/{PLAIN}.ics", f"/launches.ics?{ALL}"),
        (f"/launches/{MOVED}.ics", f"/launches.ics?{ALL}"),
        (f"/launches/{VAGUE}.ics", f"/launches.ics?{ALL}"),
        (f"/launches/{REMOVED}.ics", f"/launches.ics?{ALL}"),
        (f"/events/{ROLLOUT}.ics", f"/events.ics?{ALL}"),
        (f"/launches/{PLAIN}.ics?alarm=15,60", f"/launches.ics?{ALL}&alarm=15,60"),
    ],
)
def test_the_one_item_calendar_holds_the_feeds_own_vevent(items, path, feed):
    response = items.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    (uid, block), *rest = vevents(response.data).items()
    assert rest == []
    assert vevents(items.get(feed).data)[uid] == block  # byte for byte: UID, SEQUENCE…
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["X-WR-CALNAME"]) == str(calendar["NAME"])
    (event,) = calendar.walk("VEVENT")
    assert str(calendar["NAME"]) in str(event["SUMMARY"])  # named after its item
    assert calendar["REFRESH-INTERVAL"].dt == timedelta(hours=1)
    assert "X-PUBLISHED-TTL" in calendar and "METHOD" not in calendar


def test_whatever_its_date_and_cancelled_in_its_grace(items):
    past = items.get(f"/launches/{PAST}.ics")
    (event,) = Calendar.from_ical(past.data).walk("VEVENT")
    assert event["UID"] == f"ll2-launch-{PAST}@icalfeed"  # 200 days ago: no default window
    assert f"ll2-launch-{PAST}@icalfeed" not in vevents(items.get("/launches.ics").data)
    (gone,) = Calendar.from_ical(items.get(f"/launches/{REMOVED}.ics").data).walk("VEVENT")
    assert gone["STATUS"] == "CANCELLED" and str(gone["SUMMARY"]).startswith("Cancelled: ")


def test_the_calendar_says_whose_it_is_and_downloads_as_its_name(items):
    response = items.get(f"/launches/{PLAIN}.ics")
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["NAME"]) == "Falcon 9 | Starlink Group 17-39"
    assert str(calendar["UID"]) == f"icalfeed-launch-{PLAIN}"
    assert "followed through every move" in str(calendar["DESCRIPTION"])
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('inline; filename="falcon-9-block-5-starlink-group-17-39.ics"')


def test_etag_304_head_gzip_and_cors_as_the_feeds(items):
    # Last-Modified is never after the answer's Date: the real clock here, not NOW.
    items.application.extensions["icalfeed"].store.clock = utcnow
    path = f"/events/{ROLLOUT}.ics"
    first, second = items.get(path), items.get(path)
    assert first.data == second.data and first.headers["ETag"] == second.headers["ETag"]
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert "public" in first.headers["Cache-Control"] and first.headers["Last-Modified"]
    etag = first.headers["ETag"]
    assert items.get(path, headers={"If-None-Match": etag}).status_code == 304
    since = first.headers["Last-Modified"]
    assert items.get(path, headers={"If-Modified-Since": since}).status_code == 304
    head = items.head(path)
    assert head.status_code == 200 and head.data == b"" and head.headers["ETag"] == etag
    zipped = items.get(path, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and zipped.headers["ETag"] != etag


def test_alarm_and_tracking_parameters_and_nothing_else(items):
    path = f"/launches/{PLAIN}.ics"
    plain = items.get(path)
    shared = items.get(f"{path}?utm_source=mastodon&fbclid=x")
    assert shared.data == plain.data and shared.headers["ETag"] == plain.headers["ETag"]
    (event,) = Calendar.from_ical(items.get(f"{path}?alarm=30").data).walk("VEVENT")
    assert [a["TRIGGER"].dt for a in event.walk("VALARM")] == [timedelta(minutes=-30)]
    for query, named in (
        ("program=starlink", "'program'"),
        ("alarms=10", "did you mean 'alarm'"),
        ("alarm=99999", "alarm must be"),
        ("alarm=1,2,3,4", "alarm must be"),
    ):
        response = items.get(f"{path}?{query}")
        assert response.status_code == 400 and named in response.data.decode(), query


def test_a_move_raises_the_sequence_of_the_same_uid(tmp_path):
    client = client_for(tmp_path, item_snapshot())
    path = f"/launches/{PLAIN}.ics"
    (before,) = Calendar.from_ical(client.get(path).data).walk("VEVENT")
    etag = client.get(path).headers["ETag"]
    store = client.application.extensions["icalfeed"].store
    later = moved(raw_launches()[PLAIN], 2, NOW)
    snapshot, _ = store.snapshot.merge(parse_launches([later]).items, NOW)
    store.commit(Snapshot(snapshot.entries, snapshot.streams, "snapshot"))
    after_response = client.get(path, headers={"If-None-Match": etag})
    assert after_response.status_code == 200 and after_response.headers["ETag"] != etag
    (after,) = Calendar.from_ical(after_response.data).walk("VEVENT")
    assert after["UID"] == before["UID"] == f"ll2-launch-{PLAIN}@icalfeed"
    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert after["DTSTART"].dt == before["DTSTART"].dt + timedelta(days=2)
    assert "Moved 1 time: was 2 Dec 2026 09:00 UTC until 1 Dec 2026" in str(after["DESCRIPTION"])


def test_repeats_are_stored_answers(items):
    layer = items.application.wsgi_app
    while not isinstance(layer, FeedFastPath):
        layer = layer.app
    path = f"/launches/{PLAIN}.ics?alarm=10"
    first = items.get(path)
    again = items.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert items.get(path).data == first.data and layer.hits == 2
    assert items.get(f"/launches/{PLAIN}").status_code == 200 and layer.hits == 2  # a page


def test_one_item_calendars_pass_every_parser_and_the_lint(items, tmp_path):
    paths = []
    for number, url in enumerate(
        [
            f"/launches/{PLAIN}.ics?alarm=10,60",
            f"/launches/{MOVED}.ics",
            f"/launches/{VAGUE}.ics",
            f"/launches/{REMOVED}.ics",
            f"/launches/{PAST}.ics",
            f"/events/{ROLLOUT}.ics",
        ]
    ):
        response = items.get(url)
        assert response.status_code == 200, url
        path = tmp_path / f"item{number}.ics"
        path.write_bytes(response.data)
        paths.append(path)
    validate_ics(*paths)


def test_a_real_server_answers_repeats_from_its_stored_answers(tmp_path):
    process, port, _ = serve_offline(tmp_path)  # the packaged sample
    base = f"http://127.0.0.1:{port}"
    path = "/launches/e1079d3a-c0a6-4b42-bc1d-92e48a5a78fc.ics"
    try:
        bodies = [urllib.request.urlopen(base + path, timeout=30).read() for _ in range(3)]
        metrics = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()
    finally:
        process.terminate()
        process.wait(10)
    assert bodies[0] == bodies[1] == bodies[2]
    assert b"UID:ll2-launch-e1079d3a-c0a6-4b42-bc1d-92e48a5a78fc@icalfeed" in bodies[0]
    counted = dict(
        re.findall(
            r'icalfeed_http_requests_total\{outcome="(\w+)",route="feed_ics",status="200"\} (\S+)',
            metrics,
        )
    )
    assert float(counted["rendered"]) == 1 and float(counted["fast"]) == 2, counted
