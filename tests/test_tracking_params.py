"""Shared links keep working (#29): the parameters sharing adds (`utm_*`, `fbclid`, `gclid`,
`msclkid`, `mc_cid`, `mc_eid`, `igshid`, `ref_src`, in any case) are ignored by every feed
route, the widget and the builder, kept out of the stored answers' key and out of every link
a page builds; any other unknown parameter is still a 400 with its close match."""

from __future__ import annotations

import urllib.error
import urllib.request
from html import unescape

import pytest
from icalendar import Calendar
from prometheus_client.parser import text_string_to_metric_families
from servers import serve_offline

from icalfeed.feeds.query import is_tracking, without_tracking
from icalfeed.serving.fastpath import FeedFastPath

TRACKING = (
    "utm_source=newsletter",
    "UTM_SOURCE=Mastodon",
    "utm_medium=social&utm_campaign=launch-week",
    "utm_id=7&Utm_Content=x",
    "fbclid=IwAR0abc",
    "gclid=Cj0KCQ",
    "msclkid=5f1",
    "mc_cid=a1&mc_eid=b2",
    "igshid=MzRl",
    "ref_src=twsrc%5Etfw",
    "FBCLID=upper",
)
FEEDS = (
    "/events.ics?program=spacex-starship&start=2019-01-01",
    "/events.json?type=docking,eva",
    "/launches.ics?start=2019-01-01",
    "/feed.ics?vague=hide",
    "/feed.json?include=events,launches",
    "/programs/spacex-starship.ics?type=static-fire&start=2019-01-01",
    "/agencies/SpX.ics?start=1957-01-01",
    "/types/docking.ics?alarm=15&start=1957-01-01",
)


def shared(url: str, tracking: str) -> str:
    """`url` as it comes back from a social site: the tracking parameters appended."""
    return f"{url}{'&' if '?' in url else '?'}{tracking}"


def fast_path(app) -> FeedFastPath:
    layer = app.wsgi_app
    while not isinstance(layer, FeedFastPath):
        layer = layer.app
    return layer


@pytest.mark.parametrize("url", FEEDS)
@pytest.mark.parametrize("tracking", TRACKING)
def test_every_feed_ignores_tracking_parameters(client, url, tracking):
    plain = client.get(url)
    tracked = client.get(shared(url, tracking))
    assert plain.status_code == tracked.status_code == 200
    assert tracked.data == plain.data  # byte for byte
    assert tracked.headers["ETag"] == plain.headers["ETag"]
    assert tracked.headers.get("Content-Disposition") == plain.headers.get("Content-Disposition")
    if url.split("?")[0].endswith(".ics"):
        parsed = Calendar.from_ical(tracked.data)
        assert parsed.to_ical() == Calendar.from_ical(plain.data).to_ical()
        assert len(parsed.walk("VEVENT")) > 0


def test_a_tracked_link_alone_is_the_whole_feed(client):
    plain = client.get("/events.ics")
    tracked = client.get("/events.ics?fbclid=x&utm_source=y")
    assert tracked.status_code == 200 and tracked.data == plain.data
    assert (
        client.get("/events.ics", headers={"If-None-Match": tracked.headers["ETag"]}).status_code
        == 304
    )


def test_tracked_links_are_answered_from_the_plain_links_stored_answer(app, client):
    layer = fast_path(app)
    url = "/events.ics?program=spacex-starship&start=2019-01-01"
    first = client.get(url)
    hits = layer.hits
    for tracking in TRACKING:
        again = client.get(shared(url, tracking))
        assert again.data == first.data
    assert layer.hits == hits + len(TRACKING)  # every one a stored answer, none rendered
    # And the other way round: a tracked link first, its plain link stored by it.
    tracked = client.get("/types/docking.ics?utm_source=a&alarm=15")
    assert client.get("/types/docking.ics?alarm=15").data == tracked.data
    assert layer.hits == hits + len(TRACKING) + 1


def test_any_other_unknown_parameter_is_still_a_helpful_400(client):
    for url in ("/events.ics?progam=spacex-starship", "/widget?progam=x", "/?progam=x"):
        response = client.get(shared(url, "fbclid=abc"))
        text = unescape(response.get_data(as_text=True))  # the pages show it in HTML
        assert response.status_code == 400
        assert "unknown parameter 'progam' (did you mean 'program'?)" in text
    for name in ("utm", "utmsource", "fbclid_x", "xutm_source"):  # close, but not tracking
        response = client.get(f"/events.ics?{name}=1")
        assert response.status_code == 400 and f"'{name}'" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/widget"])
def test_pages_ignore_tracking_and_leave_it_out_of_their_links(client, path):
    url = f"{path}?program=spacex-starship&type=docking"
    plain = client.get(url)
    tracked = client.get(shared(url, "utm_source=x&fbclid=y&GCLID=z"))
    assert plain.status_code == tracked.status_code == 200
    html = tracked.get_data(as_text=True)
    assert html == plain.get_data(as_text=True)  # every link, snippet and preview the same
    for name in ("utm_", "fbclid", "gclid", "GCLID"):
        assert name not in html
    assert "program=spacex-starship" in html  # the selection is kept


def test_is_tracking_and_without_tracking():
    assert all(is_tracking(n) for n in ("utm_source", "UTM_Whatever", "utm_", " fbclid", "Ref_Src"))
    assert not any(is_tracking(n) for n in ("utm", "program", "ref", "source", "fbclid2"))
    assert without_tracking("program=x&fbclid=y") == "program=x"
    assert without_tracking("utm%5Fsource=a&program=x&UTM_MEDIUM=b&&type=1") == "program=x&type=1"
    assert without_tracking("type=a%20b&start=2019") == "type=a%20b&start=2019"  # kept as sent
    assert without_tracking("fbclid") == without_tracking("") == ""


def metric(text: str, name: str, **labels: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            headers = {k.lower(): v for k, v in response.headers.items()}
            return response.status, response.read(), headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), {k.lower(): v for k, v in error.headers.items()}


def test_a_real_server_answers_shared_links_from_its_stored_answers(tmp_path):
    process, port, _ = serve_offline(tmp_path)
    base = f"http://127.0.0.1:{port}"
    url = "/programs/spacex-starship.ics?start=2019-01-01"
    try:
        code, plain, headers = fetch(base + url)
        assert code == 200
        fast_before = metric(
            fetch(base + "/metrics")[1].decode(), "icalfeed_http_requests_total", outcome="fast"
        )
        for tracking in ("utm_source=x", "fbclid=y&UTM_CAMPAIGN=z", "igshid=1&ref_src=2"):
            code, body, again = fetch(base + shared(url, tracking))
            assert code == 200 and body == plain and again["etag"] == headers["etag"]
        metrics = fetch(base + "/metrics")[1].decode()
        assert metric(metrics, "icalfeed_http_requests_total", outcome="fast") == fast_before + 3
        assert (
            metric(metrics, "icalfeed_http_requests_total", outcome="rendered", route="feed_ics")
            == 1
        )
        code, body, _ = fetch(base + shared("/events.ics?progam=x", "fbclid=1"))
        assert code == 400 and b"did you mean 'program'?" in body
    finally:
        process.terminate()
        process.wait(10)
