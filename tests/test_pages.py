"""The HTML pages at Flask level: builder, directories, widget; link formats and headers."""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from icalfeed import create_app
from icalfeed.base.config import Settings
from icalfeed.web.subscribe import embed_snippet, links_for


def attribute(html: str, element_id: str, name: str) -> str:
    match = re.search(rf'<[^>]*id="{re.escape(element_id)}"[^>]*>', html)
    assert match, element_id
    value = re.search(rf'\b{name}="([^"]*)"', match.group(0))
    assert value, (element_id, name)
    return unescape(value.group(1))


@pytest.mark.parametrize(
    "feed_url",
    [
        "https://cal.example.org/events.ics",
        "https://cal.example.org/events.ics?program=spacex-starship&type=docking,eva&alarm=15,60",
        "http://127.0.0.1:8080/events.ics?location=kennedy+space+center&vague=hide",
        "https://cal.example.org/programs/spacex-starship.ics",
    ],
)
def test_subscribe_links_decode_back_to_the_feed(feed_url):
    name = "Spaceflight events — SpaceX Starship · Docking & more"
    links = links_for(feed_url, name)
    assert links.webcal == "webcal://" + feed_url.split("://", 1)[1]
    assert parse_qs(urlsplit(links.google).query)["cid"] == [links.webcal]
    assert links.google.startswith("https://calendar.google.com/calendar/r?cid=webcal%3A%2F%2F")
    for outlook in (links.outlook, links.office365):
        query = parse_qs(urlsplit(outlook).query)
        assert query["url"] == [feed_url] and query["name"] == [name]
    assert urlsplit(links.outlook).netloc == "outlook.live.com"
    assert urlsplit(links.office365).netloc == "outlook.office.com"


def test_embed_snippet_escapes_its_attributes():
    snippet = embed_snippet('https://x/widget?a=1&b="2"', 'Name <with> "quotes"')
    assert 'src="https://x/widget?a=1&amp;b=&quot;2&quot;"' in snippet
    assert 'title="Name &lt;with&gt; &quot;quotes&quot;"' in snippet


def test_builder_renders_links_for_the_selection_without_javascript(client):
    response = client.get("/?program=SpaceX Starship&type=eva,docking&alarm=60,15&vague=hide")
    assert response.status_code == 200
    html = response.data.decode()
    expected = "http://localhost/events.ics?program=spacex-starship&type=docking,eva&vague=hide&alarm=15,60"
    assert attribute(html, "feed-url", "value") == expected
    assert attribute(html, "link-webcal", "href") == expected.replace("http://", "webcal://")
    google = attribute(html, "link-google", "href")
    assert parse_qs(urlsplit(google).query)["cid"] == [expected.replace("http://", "webcal://")]
    outlook = parse_qs(urlsplit(attribute(html, "link-outlook", "href")).query)
    assert outlook["url"] == [expected]
    assert outlook["name"] == ["Spaceflight events — SpaceX Starship · Docking · EVA"]
    assert attribute(html, "link-download", "href") == expected
    assert re.search(r'id="program-spacex-starship"[^>]*checked', html)
    assert re.search(r'id="type-eva"[^>]*checked', html)
    assert not re.search(r'id="type-rollout"[^>]*checked', html)
    assert "widget?program=spacex-starship&amp;amp;type=docking" in html  # in the embed textarea


def test_builder_uses_the_public_url_when_configured(settings):
    app = create_app(replace(settings, public_url="https://cal.example.org/"), start_sync=False)
    html = app.test_client().get("/?type=docking").data.decode()
    assert attribute(html, "feed-url", "value") == "https://cal.example.org/events.ics?type=docking"
    assert (
        attribute(html, "link-webcal", "href") == "webcal://cal.example.org/events.ics?type=docking"
    )


def test_builder_lists_choices_with_counts_and_says_it_shows_the_sample(client):
    html = client.get("/").data.decode()
    assert 'name="program" value="spacex-starship"' in html
    assert 'name="agency" value="spacex"' in html and 'name="type" value="docking"' in html
    assert re.search(r"SpaceX Starship</span>\s*<span class=\"count\"[^>]*>\d+<span", html)
    assert "from the packaged sample" in html


def test_builder_offers_rockets_and_statuses_only_with_launches(client):
    html = client.get("/").data.decode()
    rockets = re.search(r'<fieldset class="group" id="group-rocket"([^>]*)>', html)
    assert rockets and "hidden" in rockets.group(1) and "data-launches-only" in rockets.group(1)
    # Falcon 9: 6 launches in the sample, one line however many spellings LL2 has for it.
    assert re.search(r'value="falcon-9"[^>]*data-name="Falcon 9"', html)
    assert html.count('name="rocket" value="falcon-9"') == 1
    assert 'name="rocket" value="falcon-9-block-5"' not in html
    statuses = re.findall(r'name="status" value="([a-z-]+)"', html)
    assert statuses == [
        "go",
        "tbd",
        "success",
        "failure",
        "hold",
        "in-flight",
        "partial-failure",
        "tbc",
    ]

    html = client.get("/?include=launches&rocket=falcon-9&status=go").data.decode()
    shown = re.search(r'<fieldset class="group" id="group-rocket"([^>]*)>', html)
    assert shown and "hidden" not in shown.group(1)
    assert re.search(r'value="falcon-9"[^>]*checked', html) and re.search(
        r'name="status" value="go"[^>]*checked', html
    )
    assert attribute(html, "feed-url", "value").endswith("/launches.ics?rocket=falcon-9&status=go")
    assert "Spaceflight launches — Falcon 9" in html

    # Without launches the rocket boxes are hidden: they must not silently empty the feed.
    html = client.get("/?rocket=falcon-9&type=docking").data.decode()
    assert attribute(html, "feed-url", "value").endswith("/events.ics?type=docking")
    assert not re.search(r'value="falcon-9"[^>]*checked', html)


def test_builder_shows_a_bad_query_as_an_error_not_a_crash(client):
    response = client.get("/?program=startship")
    assert response.status_code == 400
    assert "unknown program &#39;startship&#39; (did you mean &#39;spacex-starship&#39;?)" in (
        response.data.decode()
    )


def test_pages_carry_security_headers(client):
    for path in ("/", "/programs", "/agencies", "/types"):
        response = client.get(path)
        assert response.status_code == 200, path
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp and response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "<script>" not in response.data.decode()  # no inline script anywhere


def test_widget_can_be_framed_anywhere_and_renders_the_agenda(client):
    response = client.get("/widget?type=flyby&theme=dark")
    assert response.status_code == 200
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    html = response.data.decode()
    assert 'data-theme="dark"' in html and "Solar Orbiter Venus Flyby" in html
    assert 'data-json-url="http://localhost/events.json?type=flyby"' in html
    assert 'href="?type=flyby&amp;theme=dark&amp;view=month"' in html


@pytest.mark.parametrize(
    "query",
    [
        "theme=neon",
        "view=week",
        "type=nope",
        "lang=%3Cscript%3E",
        "lang=de_DE",
        "lang=x",
        "lang=de&lang=ja",
    ],
)
def test_widget_rejects_bad_parameters_politely(client, query):
    response = client.get(f"/widget?{query}")
    assert response.status_code == 400 and 'role="alert"' in response.data.decode()


def test_a_language_carries_through_the_widget_and_the_builders_snippet(client):
    """`lang=` is a page parameter: the scripts format dates in it; it selects nothing."""
    html = client.get("/widget?type=flyby&lang=pt-BR").data.decode()
    assert 'data-lang="pt-BR"' in html and "Solar Orbiter Venus Flyby" in html
    assert 'href="?type=flyby&amp;lang=pt-BR&amp;view=month"' in html
    assert 'data-json-url="http://localhost/events.json?type=flyby"' in html
    builder = client.get("/?type=flyby&lang=ja")
    page = unescape(builder.data.decode())
    assert builder.status_code == 200
    assert (
        'src="http://localhost/widget?type=flyby&amp;lang=ja"' in page
    )  # the snippet's own escape
    assert 'value="http://localhost/events.ics?type=flyby"' in page  # the feed is the same
    assert '<option value="ja" lang="ja" selected>' in page
    assert 'data-lang="' not in client.get("/widget").data.decode()


@pytest.mark.parametrize(
    ("path", "slug", "feed"),
    [
        ("/programs", "spacex-starship", "/programs/spacex-starship.ics"),
        ("/agencies", "spacex", "/agencies/spacex.ics"),
        ("/types", "docking", "/types/docking.ics"),
    ],
)
def test_directories_give_each_item_its_feed(client, path, slug, feed):
    html = client.get(path).data.decode()
    assert attribute(html, f"url-{slug}", "value") == "http://localhost" + feed
    assert attribute(html, f"{slug}-link-webcal", "href") == "webcal://localhost" + feed
    assert client.get(feed).status_code == 200


def test_directories_offer_events_and_launches_together_where_launches_exist(client):
    html = client.get("/programs").data.decode()
    both = attribute(html, "starlink-with-launches", "href")
    assert both == "/?program=starlink&include=events,launches"
    page = client.get(both).data.decode()
    assert attribute(page, "feed-url", "value") == "http://localhost/feed.ics?program=starlink"
    assert 'id="artemis-with-launches"' not in html  # no Artemis launch in the sample
    assert "-with-launches" not in client.get("/types").data.decode()


def test_static_assets_are_served_from_the_package(client):
    for name in ("site.css", "builder.js", "widget.js", "dates.js", "favicon.svg"):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200 and response.data, name
    for html in (client.get("/").data, client.get("/widget").data):
        assert b"//cdn" not in html and b"fonts.googleapis" not in html


def test_the_builder_says_where_its_data_comes_from(tmp_path):
    """Offline, the packaged sample is all there will be; online, it stands in until the
    first sync (the notice must not promise a sync an offline server never runs)."""
    offline = create_app(Settings(data_dir=tmp_path / "a", offline=True), start_sync=False)
    text = offline.test_client().get("/").data.decode()
    assert "from the packaged sample: this server runs offline" in text
    assert "is under way" not in text
    online = create_app(Settings(data_dir=tmp_path / "b"), start_sync=False)
    text = online.test_client().get("/").data.decode()
    assert "from the packaged sample while the first sync" in text
