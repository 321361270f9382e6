"""HTTP behaviour of the foundation routes: /healthz and the minimal /events.ics."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar

from icalfeed import create_app
from icalfeed.base.errors import SnapshotError
from icalfeed.data import store as store_module


def test_healthz_reports_the_sample_offline(client):
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200
    assert body["source"] == "sample" and body["status"] == "degraded"
    assert body["events"] > 200 and body["offline"] is True
    for key in ("snapshot_age_seconds", "last_sync", "last_error"):
        assert key in body
    assert body["budget"]["requests_per_hour"] == 12


def test_events_ics_serves_the_default_window(client):
    response = client.get("/events.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "public" in response.headers["Cache-Control"]
    calendar = Calendar.from_ical(response.data)
    events = calendar.walk("VEVENT")
    assert events, "the sample has events after 31 days before its capture"
    floor = datetime(2026, 8, 26).date()  # 31 days before the sample's events were captured
    for event in events:
        start = event["DTSTART"].dt
        assert (start.date() if isinstance(start, datetime) else start) >= floor


def test_body_is_byte_stable_and_304_works(client):
    first, second = client.get("/events.ics"), client.get("/events.ics")
    assert first.data == second.data and first.headers["ETag"] == second.headers["ETag"]
    etag = first.headers["ETag"]
    assert client.get("/events.ics", headers={"If-None-Match": etag}).status_code == 304
    since = first.headers["Last-Modified"]
    assert client.get("/events.ics", headers={"If-Modified-Since": since}).status_code == 304


def test_head_has_headers_and_no_body(client):
    response = client.head("/events.ics")
    assert response.status_code == 200 and response.data == b""
    assert response.headers["ETag"]


def test_unknown_parameter_is_a_400_naming_it(client):
    response = client.get("/events.ics?agncy=spacex")
    assert response.status_code == 400
    assert (
        response.data.decode().strip() == "400 unknown parameter 'agncy' (did you mean 'agency'?)"
    )


def test_a_filter_matching_nothing_is_an_empty_valid_calendar(client):
    response = client.get("/events.ics?type=docking&year=1999")
    assert response.status_code == 200
    assert Calendar.from_ical(response.data).walk("VEVENT") == []


def test_no_data_at_all_is_503_with_retry_after(settings, monkeypatch):
    def broken():
        raise SnapshotError("no sample")

    monkeypatch.setattr(store_module, "load_sample", broken)
    client = create_app(settings, start_sync=False).test_client()
    response = client.get("/events.ics")
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["status"] == "unavailable"


def test_feed_uses_the_precision_of_each_event(client):
    calendar = Calendar.from_ical(client.get("/events.ics?start=2019-01-01").data)
    by_uid = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    rollout = by_uid["ll2-event-1327@icalfeed"]  # to the minute, PT2H38M51S
    assert rollout["DTSTART"].dt == datetime(2026, 2, 1, 6, 0, tzinfo=UTC)
    assert rollout["DTEND"].dt == datetime(2026, 2, 1, 8, 38, 51, tzinfo=UTC)
    juice = by_uid["ll2-event-1017@icalfeed"]
    assert juice["SUMMARY"] == "Juice Earth Flyby" and juice["STATUS"] == "CONFIRMED"
    starliner = by_uid["ll2-event-365@icalfeed"]  # year precision
    assert starliner["STATUS"] == "TENTATIVE"
    assert str(starliner["SUMMARY"]).startswith("NET 2026: ")
