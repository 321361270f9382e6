"""Feed routes over HTTP: path routes, JSON, headers, caching, the cap."""

from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import quote

import pytest
from icalendar import Calendar

from icalfeed import create_app


def uids(body: bytes) -> list[str]:
    return [str(e["UID"]) for e in Calendar.from_ical(body).walk("VEVENT")]


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/programs/spacex-starship.ics", "program=spacex-starship"),
        ("/programs/1.ics", "program=spacex-starship"),
        ("/programs/SpaceX%20Starship.ics", "program=1"),
        ("/agencies/SpX.ics", "agency=spacex"),
        ("/agencies/121.ics", "agency=spacex"),
        ("/types/docking.ics", "type=docking"),
        ("/types/static-fire.ics", "type=5"),
    ],
)
def test_path_routes_equal_the_query_form(client, path, query):
    by_path = client.get(path + "?start=2019-01-01")
    by_query = client.get(f"/events.ics?{query}&start=2019-01-01")
    assert by_path.status_code == 200 and by_path.data == by_query.data
    assert uids(by_path.data)


def test_path_routes_combine_with_query_parameters(client):
    combined = uids(
        client.get("/programs/spacex-starship.ics?type=static-fire&start=2019-01-01").data
    )
    starship = uids(client.get("/programs/spacex-starship.ics?start=2019-01-01").data)
    assert combined and set(combined) < set(starship)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "/programs/startship.ics",
            "404 unknown program 'startship' (did you mean 'spacex-starship'?)",
        ),
        ("/agencies/spacx.ics", "404 unknown agency 'spacx' (did you mean 'spacex'?)"),
        ("/types/dokcing.ics", "404 unknown type 'dokcing' (did you mean 'docking'?)"),
    ],
)
def test_unknown_path_names_are_404_with_suggestions(client, path, message):
    response = client.get(path)
    assert response.status_code == 404 and response.data.decode().strip() == message


def test_bad_query_is_400_and_never_5xx(client):
    for query in ("alarm=x", "start=never", "type=", "program=,,,", "%ff=%fe", "a" * 300 + "=1"):
        response = client.get(f"/events.ics?{query}")
        assert response.status_code in (200, 400), query
        assert response.status_code == 400 or uids(response.data) is not None


def test_json_has_the_same_selection_and_stable_fields(client):
    query = "program=spacex-starship&start=2019-01-01"
    document = client.get(f"/events.json?{query}")
    assert document.status_code == 200 and document.mimetype == "application/json"
    assert document.headers["Access-Control-Allow-Origin"] == "*"
    data = json.loads(document.data)
    assert [e["uid"] for e in data["events"]] == uids(client.get(f"/events.ics?{query}").data)
    assert data["count"] == len(data["events"]) and data["calendar"]["name"]
    event = next(e for e in data["events"] if e["id"] == 1327)
    assert event["start"] == "2026-02-01T06:00:00Z" and event["end"] == "2026-02-01T08:38:51Z"
    assert event["precision"] == {
        "id": 1,
        "name": "minute",
        "words": "to the minute",
        "vague": False,
    }
    assert event["webcast"].startswith("https://www.youtube.com/") and event["all_day"] is False
    assert event["type"]["slug"] == "rollout" and event["programs"][0]["slug"] == "spacex-starship"
    vague = next(e for e in data["events"] if e["precision"]["vague"])
    assert vague["net"].startswith("NET ") and vague["status"] == "tentative"


def test_calendar_name_describes_the_selection(client):
    body = client.get("/events.ics?program=spacex-starship&type=static-fire,docking").data
    calendar = Calendar.from_ical(body)
    name = str(calendar["X-WR-CALNAME"])
    assert name == "Spaceflight events — SpaceX Starship · Docking · Static Fire"
    assert str(calendar["NAME"]) == name
    assert str(calendar["X-WR-CALDESC"]).startswith(name)
    assert calendar["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert "METHOD" not in calendar


def test_headers_etag_304_head_and_filename(client):
    response = client.get("/programs/spacex-starship.ics")
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        'inline; filename="spacex-starship.ics"; '
        "filename*=UTF-8''Spaceflight%20events%20%E2%80%94%20SpaceX%20Starship.ics"
    )
    assert response.headers["Cache-Control"] == "public, max-age=900"
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert (
        client.get("/programs/spacex-starship.ics", headers={"If-None-Match": etag}).status_code
        == 304
    )
    head = client.head("/programs/spacex-starship.ics")
    assert head.status_code == 200 and head.data == b"" and head.headers["ETag"] == etag
    other = client.get("/types/docking.ics")
    assert other.headers["ETag"] != etag


def test_popular_feed_renders_once_per_data_version(app, client):
    feeds = app.extensions["icalfeed"].feeds
    for _ in range(5):
        client.get("/events.ics?type=docking,eva")
        client.get("/events.ics?type=eva,docking")
        client.get("/types/docking.ics?type=eva")
    assert feeds.renders == 1


def test_cap_is_configurable_and_announced(settings):
    client = create_app(replace(settings, max_events=5), start_sync=False).test_client()
    calendar = Calendar.from_ical(client.get("/events.ics?start=1957-01-01").data)
    assert len(calendar.walk("VEVENT")) == 5
    assert "showing the 5 events nearest today of 257" in str(calendar["X-WR-CALDESC"])


def test_unicode_names_in_the_path_are_resolved(client):
    response = client.get("/programs/" + quote("International Space Station") + ".ics")
    assert response.status_code == 200


def test_last_modified_is_never_older_than_today(client):
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime

    from icalfeed.feeds.select import feed_day

    response = client.get("/events.ics?year=2020")
    modified = parsedate_to_datetime(response.headers["Last-Modified"])
    # The packaged sample's stamps are older, and so is the default window's day start:
    # nothing this process serves is older than its own start, nor later than Date.
    assert feed_day(datetime.now(UTC)) <= modified
    assert modified <= parsedate_to_datetime(response.headers["Date"])


def test_last_modified_counts_removals():
    from dataclasses import replace
    from datetime import UTC, datetime

    from icalfeed.data.store import load_sample
    from icalfeed.feeds.output import data_changed_at

    day = datetime(2020, 1, 1, tzinfo=UTC)
    removal = datetime(2026, 11, 24, 12, tzinfo=UTC)
    # A snapshot never committed here (changed_at unknown): its stamps and removals stand in.
    sample = replace(load_sample(), changed_at=None)
    newest = data_changed_at(sample, sample.ordered_entries, day)
    marked, _ = sample.mark_removed(sample.missing("event", set(), removal), removal)
    assert newest < removal
    assert data_changed_at(marked, marked.ordered_entries, day) == removal


def test_render_cache_is_bounded_by_bytes():
    from datetime import UTC, datetime

    from icalfeed.feeds.feedcache import FeedCache
    from icalfeed.feeds.output import Rendered

    cache = FeedCache(max_bytes=10_000)
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    for number in range(50):
        cache.get(number, lambda: Rendered(b"x" * 3_000, stamp, "f.ics"))
    assert cache.renders == 50
    assert cache.get(49, lambda: Rendered(b"new", stamp, "f.ics")).body == b"x" * 3_000
    assert cache.get(0, lambda: Rendered(b"again", stamp, "f.ics")).body == b"again"
    huge = cache.get("huge", lambda: Rendered(b"y" * 20_000, stamp, "f.ics"))
    assert len(huge.body) == 20_000 and cache.renders == 52


def test_gzip_for_clients_that_accept_it(client):
    import gzip

    plain_response = client.get("/events.ics?start=1957-01-01")
    zipped = client.get("/events.ics?start=1957-01-01", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain_response.headers
    assert gzip.decompress(zipped.data) == plain_response.data
    assert len(zipped.data) < len(plain_response.data) / 3
    assert zipped.headers["ETag"] != plain_response.headers["ETag"]
    assert (
        "Accept-Encoding" in zipped.headers["Vary"]
        and "Accept-Encoding" in (plain_response.headers["Vary"])
    )
    again = client.get(
        "/events.ics?start=1957-01-01",
        headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]},
    )
    assert again.status_code == 304
    refused = client.get("/events.ics?start=1957-01-01", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers
