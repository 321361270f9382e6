"""Big bodies go to the server as a file (icalfeed/filebody.py): the same bytes, headers
and validators either way, through the app and through a real waitress server."""

from __future__ import annotations

import gzip
import http.client
import io
from collections.abc import Iterator

import pytest
from icalendar import Calendar
from servers import serve_offline

from icalfeed.serving.filebody import THRESHOLD

BIG = "/feed.ics?start=1957-01-01&include=all"  # the whole sample: well over THRESHOLD
SMALL = "/types/docking.ics"


class Wrapper:
    """A stand-in for the server's wsgi.file_wrapper that remembers what it was handed."""

    def __init__(self) -> None:
        self.files: list[io.BytesIO] = []

    def __call__(self, file: io.BytesIO, block: int) -> Iterator[bytes]:
        self.files.append(file)
        return iter(lambda: file.read(block), b"")


def test_a_big_body_is_handed_over_as_a_file_and_a_small_one_is_not(client):
    plain = client.get(BIG)
    assert plain.status_code == 200 and len(plain.data) >= THRESHOLD
    wrapper = Wrapper()
    for path in (BIG, BIG, SMALL):  # the second BIG comes from the fast path
        wrapped = client.get(path, environ_overrides={"wsgi.file_wrapper": wrapper})
        assert wrapped.status_code == 200
        assert wrapped.headers["Content-Length"] == str(len(wrapped.data))
    assert len(wrapper.files) == 2
    assert all(f.getvalue() == plain.data for f in wrapper.files)
    head = client.head(BIG, environ_overrides={"wsgi.file_wrapper": wrapper})
    assert head.status_code == 200 and head.data == b"" and len(wrapper.files) == 2
    etag = plain.headers["ETag"]
    again = client.get(
        BIG, headers={"If-None-Match": etag}, environ_overrides={"wsgi.file_wrapper": wrapper}
    )
    assert again.status_code == 304 and len(wrapper.files) == 2


@pytest.fixture
def port(tmp_path) -> Iterator[int]:
    process, number, _ = serve_offline(tmp_path)
    yield number
    process.terminate()
    process.wait(10)


def fetch(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_waitress_sends_the_same_bytes_for_big_feeds(port, client):
    expected = client.get(BIG).data
    bodies = []
    for _ in range(3):  # rendered, then stored by the fast path
        status, headers, body = fetch(port, BIG)
        assert status == 200 and headers["Content-Length"] == str(len(body))
        bodies.append(body)
    status, headers, zipped = fetch(port, BIG, **{"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    bodies.append(gzip.decompress(zipped))
    assert all(body == expected for body in bodies)
    assert len(Calendar.from_ical(expected).walk("VEVENT")) > 100
