"""Limits, error answers and secrets: short plain-text errors, no internals, no key leaks."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from fake_ll2 import Fault

from icalfeed import create_app
from icalfeed.web import views
from icalfeed.web.guards import MAX_BODY_BYTES, MAX_QUERY_BYTES


def test_too_long_query_string_is_414(client):
    response = client.get("/events.ics?search=" + "x" * MAX_QUERY_BYTES)
    assert response.status_code == 414
    assert response.data == b"414 query string too long (at most 4096 bytes)\n"


def test_unknown_route_and_method_are_short_text(client):
    missing = client.get("/wp-admin/setup.php")
    assert missing.status_code == 404 and missing.data == b"404 not found\n"
    post = client.post("/events.ics", data=b"x" * 10)
    assert post.status_code == 405 and "GET" in post.headers["Allow"]


def test_a_body_beyond_the_limit_is_413(client):
    response = client.post("/events.ics", data=b"x" * 100_000)
    assert response.status_code == 413
    assert response.data == b"413 request body too large (at most 16384 bytes)\n"


@pytest.mark.parametrize("path", ["/events.ics", "/healthz", "/", "/nowhere"])
def test_the_body_limit_holds_on_every_route_and_method(client, path):
    """Exactly at the limit a body is let through (and the route answers as it would);
    one byte more is 413, for GET as for POST."""
    assert client.get(path, data=b"x" * (MAX_BODY_BYTES + 1)).status_code == 413
    assert client.post(path, data=b"x" * (MAX_BODY_BYTES + 1)).status_code == 413
    assert client.get(path, data=b"x" * MAX_BODY_BYTES).status_code == client.get(path).status_code
    assert client.post(path, data=b"x" * MAX_BODY_BYTES).status_code in (404, 405)


@pytest.mark.parametrize(
    "path",
    [
        "/static/../config.py",
        "/static/%2e%2e/config.py",
        "/programs/..%2f..%2fetc%2fpasswd.ics",
        "/types/%00.ics",
        "/agencies/....//.ics",
    ],
)
def test_no_path_traversal(client, path):
    response = client.get(path)
    assert response.status_code in (400, 404)
    assert b"Settings" not in response.data and b"root:" not in response.data


def test_an_unexpected_error_is_logged_not_shown(client, monkeypatch, caplog):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internals /srv/app")

    monkeypatch.setattr(views, "render_feed", explode)
    with caplog.at_level(logging.ERROR):
        response = client.get("/events.ics?type=docking")
    assert response.status_code == 500
    assert response.data == b"500 internal error; it has been logged\n"
    assert "secret internals" in caplog.text


def test_query_values_never_reach_response_headers(client):
    response = client.get("/events.ics?search=a%0d%0aSet-Cookie:%20x=1")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert all("\n" not in value and "\r" not in value for _, value in response.headers)


def test_cors_only_on_feeds(client):
    assert client.get("/events.ics").headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/events.json").headers["Access-Control-Allow-Origin"] == "*"
    for path in ("/", "/healthz", "/programs", "/widget"):
        assert "Access-Control-Allow-Origin" not in client.get(path).headers, path


def test_api_key_never_appears_in_logs_health_or_errors(online_settings, fake_ll2, caplog):
    secret = "tok_9f8e7d6c5b4a"
    settings = replace(online_settings, api_key=secret)
    with caplog.at_level(logging.DEBUG):
        app = create_app(settings, start_sync=False)
        from synctools import Clock, make_syncer

        fake_ll2.fail_next(Fault(401, b'{"detail":"Invalid token."}'))
        make_syncer(settings, Clock(), app.extensions["icalfeed"].store).run()
        client = app.test_client()
        bodies = [client.get(p).data for p in ("/healthz", "/", "/events.ics?agncy=1", "/x")]
    assert fake_ll2.requests[0].headers["Authorization"] == f"Token {secret}"
    assert secret not in caplog.text
    assert all(secret.encode() not in body for body in bodies)
    assert "http-401" in app.test_client().get("/healthz").get_json()["last_error"]


@pytest.mark.parametrize("path", ["/programs/%20.ics", "/agencies/,.ics", "/types/%0A.ics"])
def test_blank_path_names_are_404_not_the_whole_feed(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.data.count(b"\n") == 1
