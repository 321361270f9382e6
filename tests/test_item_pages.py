"""An item's own page (#34): `/launches/<uuid>` and `/events/<id>`, with what a shared link
shows (OpenGraph, Twitter cards) and the schema.org `Event` search engines read (JSON-LD),
honest about how well the date is known and whether it moved or went away."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from itemdata import (
    DOCKING,
    HELD,
    HOSTILE,
    HOSTILE_NAME,
    HOSTILE_TEXT,
    LIVE,
    MOVED,
    NO_IMAGE,
    NOW,
    PLAIN,
    REMOVED,
    RETIRED,
    ROLLOUT,
    UNOFFICIAL,
    VAGUE,
    Page,
    client_for,
    item_snapshot,
    text_of,
)
from ll2data import event_by_name

from icalfeed.data.snapshot import Snapshot
from icalfeed.feeds.itempage import json_ld, map_link, script_json
from icalfeed.ll2.models import Pad, parse_events
from icalfeed.web.metrics import route_class

SCHEMA = "https://schema.org/"


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return item_snapshot()


@pytest.fixture
def items(tmp_path, snapshot) -> FlaskClient:
    return client_for(tmp_path, snapshot)


def page(client: FlaskClient, path: str) -> tuple[str, Page]:
    response = client.get(path)
    assert response.status_code == 200, (path, response.data[:200])
    html = response.data.decode()
    return html, Page(html)


# ------------------------------------------------------------------ schema.org Event


@pytest.mark.parametrize(
    ("launch", "status"),
    [
        (PLAIN, "EventScheduled"),
        (MOVED, "EventRescheduled"),
        (VAGUE, "EventPostponed"),
        (REMOVED, "EventCancelled"),
    ],
)
def test_the_json_ld_event_status_tells_the_four_cases_apart(items, launch, status):
    _, parsed = page(items, f"/launches/{launch}")
    data = parsed.json_ld()
    assert data["@context"] == "https://schema.org" and data["@type"] == "Event"
    assert data["eventStatus"] == SCHEMA + status
    assert data["url"] == f"http://localhost/launches/{launch}"
    assert ("previousStartDate" in data) == (launch == MOVED)


def test_a_timed_launch_is_an_instant_with_its_window_place_webcast_and_organizer(items):
    data = Page(items.get(f"/launches/{PLAIN}").data.decode()).json_ld()
    # The calendar's span: the believable window around the NET (09:00, rebased).
    assert data["startDate"] == "2026-12-02T08:10:28Z"
    assert data["endDate"] == "2026-12-02T12:10:28Z"
    assert data["name"] == "Falcon 9 | Starlink Group 17-39"
    place, online = data["location"]
    assert place["@type"] == "Place" and place["name"].startswith("Space Launch Complex 4E")
    assert place["geo"] == {"@type": "GeoCoordinates", "latitude": 34.632, "longitude": -120.611}
    assert online == {"@type": "VirtualLocation", "url": LIVE}  # the best webcast
    assert data["eventAttendanceMode"] == SCHEMA + "MixedEventAttendanceMode"
    assert data["organizer"] == {"@type": "Organization", "name": "SpaceX"}
    assert data["image"] == [
        "https://thespacedevs-prod.nyc3.digitaloceanspaces.com/media/images/"
        "falcon2520925_image_20221009234147.png"
    ]
    assert data["description"].startswith("A batch of")


def test_a_moved_launch_gives_its_earlier_dates_newest_first(items, snapshot):
    data = Page(items.get(f"/launches/{MOVED}").data.decode()).json_ld()
    entry = snapshot.entries[f"launch:{MOVED}"]
    assert data["startDate"] == f"{entry.item.net:%Y-%m-%dT%H:%M:%SZ}"
    first_net = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # rebased: 6 days and 1 h on
    assert data["previousStartDate"] == [
        f"{first_net + timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}",
        f"{first_net:%Y-%m-%dT%H:%M:%SZ}",
    ]


def test_a_vague_launch_says_only_its_month_and_has_no_end(items):
    data = Page(items.get(f"/launches/{VAGUE}").data.decode()).json_ld()
    assert data["startDate"] == "2026-12" and "endDate" not in data


def event_entry(precision: int, **changes):
    raw = event_by_name("Booster 19 Rollout")
    raw.update(date="2026-07-20T14:49:00Z", date_precision={"id": precision}, **changes)
    snapshot, _ = Snapshot({}).merge(parse_events([raw]).items, NOW)
    return snapshot.entries[f"event:{ROLLOUT}"]


@pytest.mark.parametrize(
    ("precision", "start"),
    [
        (0, "2026-07-20T14:49:00Z"),  # second
        (1, "2026-07-20T14:49:00Z"),  # minute
        (2, "2026-07-20T14:49:00Z"),  # hour
        (3, "2026-07-20"),  # morning
        (4, "2026-07-20"),  # afternoon
        (5, "2026-07-20"),  # day
        (6, "2026-07-20"),  # week: the NET day
        (7, "2026-07"),  # month
        (10, "2026"),  # quarter 3
        (13, "2026"),  # half 2
        (14, "2026"),  # year
        (15, "2026"),  # fiscal year
        (16, "2026"),  # decade
        (None, "2026-07"),  # unknown: no day it may not know
    ],
)
def test_the_start_date_is_as_precise_as_ll2_knows_it(precision, start):
    data = json_ld(event_entry(precision, duration="PT2H"), "https://x/events/1327")
    assert data["startDate"] == start
    timed = precision is not None and precision <= 2
    assert data.get("endDate") == ("2026-07-20T16:49:00Z" if timed else None)
    vague = precision is None or precision >= 6
    assert data["eventStatus"] == SCHEMA + ("EventPostponed" if vague else "EventScheduled")


def test_an_event_has_its_place_first_agency_and_no_image_when_ll2_has_none(items):
    _, parsed = page(items, f"/events/{NO_IMAGE}")
    data = parsed.json_ld()
    assert "image" not in data and "og:image" not in parsed.meta
    assert parsed.meta["twitter:card"] == "summary"
    assert data["organizer"]["@type"] == "Organization"
    _, rollout = page(items, f"/events/{ROLLOUT}")
    data = rollout.json_ld()
    assert data["organizer"] == {"@type": "Organization", "name": "SpaceX"}
    assert data["location"][0] == {
        "@type": "Place",
        "name": "Starbase Texas",
        "address": "Starbase Texas",
    }


# ------------------------------------------------------------------ sharing


def test_shared_links_show_the_title_date_status_and_image(items):
    html, parsed = page(items, f"/launches/{PLAIN}")
    url = f"http://localhost/launches/{PLAIN}"
    meta = parsed.meta
    assert meta["og:title"] == meta["twitter:title"] == "Falcon 9 | Starlink Group 17-39"
    assert meta["og:url"] == url and parsed.link("canonical")["href"] == url
    assert meta["og:type"] == "website"
    assert meta["og:description"] == meta["twitter:description"] == meta["description"]
    assert meta["og:description"].startswith("2 Dec 2026 09:00 UTC · Go for Launch · ")
    assert meta["og:image"] == meta["twitter:image"] and meta["og:image"].startswith("https://")
    assert meta["twitter:card"] == "summary_large_image"
    alternate = parsed.link("alternate", "text/calendar")
    assert alternate["type"] == "text/calendar" and alternate["href"] == f"{url}.ics"
    assert "<title>Falcon 9 | Starlink Group 17-39 — icalfeed</title>" in html


def test_shared_links_use_the_public_url(tmp_path, snapshot):
    client = client_for(tmp_path, snapshot, public_url="https://cal.example.org/")
    parsed = Page(client.get(f"/events/{ROLLOUT}").data.decode())
    url = f"https://cal.example.org/events/{ROLLOUT}"
    assert parsed.meta["og:url"] == url and parsed.json_ld()["url"] == url
    assert parsed.link("alternate", "text/calendar")["href"] == f"{url}.ics"
    changes = parsed.link("alternate", "application/atom+xml")["href"]
    assert changes == f"https://cal.example.org/changes.atom?id={ROLLOUT}&include=events"
    assert (
        parsed.by_id["follow-link-webcal"]["href"]
        == f"webcal://cal.example.org/events/{ROLLOUT}.ics"
    )


def test_a_vague_and_a_removed_item_say_so_where_shared(items):
    _, vague = page(items, f"/launches/{VAGUE}")
    assert vague.meta["og:description"].startswith("NET December 2026 · ")
    html, removed = page(items, f"/launches/{REMOVED}")
    assert removed.meta["og:title"].startswith("Cancelled: ")
    assert (
        "Cancelled: removed from Launch Library 2 on 30 Nov 2026" in removed.meta["og:description"]
    )
    assert "Calendars show it as cancelled until 7 Dec 2026" in text_of(html, "removed")


# ------------------------------------------------------------------ what the page says


def test_a_launch_page_shows_its_date_status_webcasts_pad_updates_and_follow_links(items, snapshot):
    html, parsed = page(items, f"/launches/{PLAIN}")
    launch = snapshot.entries[f"launch:{PLAIN}"].item
    date = parsed.by_id["item-date"]
    assert date["datetime"] == "2026-12-02T09:00:00Z" and "data-timed" in date
    assert "Launch status Go for Launch" in text_of(html, "item-status")
    # Every webcast, the calendar's own link (live, official) first, the live one marked.
    webcasts = re.findall(
        r'<li><a href="([^"]+)"', html.split('id="webcasts"')[1].split("</ul>")[0]
    )
    assert webcasts == [LIVE, UNOFFICIAL]
    assert text_of(html, "webcasts").startswith("Official webcast live")
    assert parsed.by_id["map-link"]["href"] == launch.pad.map_url
    assert len(re.findall(r"<li>", html.split('id="updates"')[1].split("</ol>")[0])) == 3
    assert launch.updates[0].comment in html
    # Its program and its provider, each with its calendar (launches included) and preset.
    assert parsed.by_id["programs-starlink-link-webcal"]["href"] == (
        "webcal://localhost/programs/starlink.ics?include=events,launches"
    )
    assert parsed.by_id["agencies-spacex-link-webcal"]["href"].startswith(
        "webcal://localhost/agencies/spacex.ics"
    )
    assert parsed.by_id["programs-starlink-builder"]["href"] == (
        "/?program=starlink&include=events,launches"
    )
    assert items.get(parsed.by_id["programs-starlink-builder"]["href"]).status_code == 200
    record = f"https://ll.thespacedevs.com/2.3.0/launches/{PLAIN}/"
    assert f'Source: <a href="{record}">this launch in Launch Library 2</a>' in html
    assert 'Data: <a href="https://thespacedevs.com/llapi">Launch Library 2</a>' in html


def test_the_date_history_is_told_newest_first(items, snapshot):
    html, _ = page(items, f"/launches/{MOVED}")
    entry = snapshot.entries[f"launch:{MOVED}"]
    assert text_of(html, "moved") == "Moved 2 times:"
    lines = re.findall(r"<li>([^<]+)</li>", html.split('id="history"')[1].split("</ol>")[0])
    assert lines == [
        "was 8 Dec 2026 10:00 UTC until 30 Nov 2026",
        "was 7 Dec 2026 10:00 UTC until 29 Nov 2026",
    ]
    assert [m.until for m in entry.moves] == [NOW - timedelta(days=1), NOW - timedelta(days=2)]
    assert "Moved" not in page(items, f"/launches/{PLAIN}")[0]


def test_a_vague_date_is_shown_as_its_period(items):
    html, parsed = page(items, f"/launches/{VAGUE}")
    assert text_of(html, "item-date") == "NET December 2026"
    assert "data-vague" in parsed.by_id["item-date"] and "date not final" in html


def test_an_event_page_links_the_launches_held_here(items):
    html, _ = page(items, f"/events/{ROLLOUT}")
    assert f'<a href="/launches/{HELD}">Starship | Flight 13</a>' in html
    assert items.get(f"/launches/{HELD}").status_code == 200
    docking = page(items, f"/events/{DOCKING}")[0]
    linked = docking.split('id="linked"')[1].split("</ul>")[0]
    assert "<a " not in linked and "Dragon CRS-2 SpX-24" in linked  # not held: named only


def test_the_follow_panel_offers_the_one_item_calendar_and_adding_it_once(items):
    _, parsed = page(items, f"/launches/{PLAIN}")
    calendar = f"http://localhost/launches/{PLAIN}.ics"
    assert parsed.by_id["calendar-url"]["value"] == calendar
    assert parsed.by_id["follow-link-webcal"]["href"] == calendar.replace("http:", "webcal:")
    assert parse_qs(urlsplit(parsed.by_id["follow-link-outlook"]["href"]).query)["url"] == [
        calendar
    ]
    assert "follow-link-download" not in parsed.by_id  # "Add once" offers it instead
    once = parsed.by_id["add-once"]
    assert once["href"] == calendar and "download" in once


def google(parsed: Page) -> dict[str, str]:
    link = urlsplit(parsed.by_id["add-google"]["href"])
    assert (
        f"{link.scheme}://{link.netloc}{link.path}" == "https://calendar.google.com/calendar/render"
    )
    return {k: v for k, (v,) in parse_qs(link.query).items()}


def test_the_google_template_is_timed_or_all_day_as_the_calendar_is(items):
    timed = google(page(items, f"/launches/{PLAIN}")[1])
    assert timed["action"] == "TEMPLATE" and timed["text"] == "Falcon 9 | Starlink Group 17-39"
    assert timed["dates"] == "20261202T081028Z/20261202T121028Z"
    assert f"http://localhost/launches/{PLAIN}" in timed["details"]
    assert timed["location"].startswith("Space Launch Complex 4E")
    vague = google(page(items, f"/launches/{VAGUE}")[1])
    assert vague["dates"] == "20261212/20261213"  # the NET day, the end exclusive
    assert vague["text"] == "NET December 2026: Gravity-1 | Unknown Payload"
    rollout = google(page(items, f"/events/{ROLLOUT}")[1])
    assert rollout["dates"] == "20260201T060000Z/20260201T083851Z"


def test_the_map_is_ll2s_else_openstreetmap_at_the_pads_coordinates():
    pad = Pad(1, "SLC-40", "Cape Canaveral", 28.56194122, -80.57735736, None)
    assert map_link(pad) == (
        "https://www.openstreetmap.org/?mlat=28.56194&mlon=-80.57736#map=14/28.56194/-80.57736"
    )
    assert map_link(Pad(1, "SLC-40", None, None, None, "https://maps.example/x")) == (
        "https://maps.example/x"
    )
    assert map_link(Pad(1, "SLC-40", None, None, None, None)) is None and map_link(None) is None


# ------------------------------------------------------------------ hostile text and ids


def test_hostile_text_from_ll2_stays_text_in_the_html_and_the_json_ld(items):
    html, parsed = page(items, f"/launches/{HOSTILE}")
    # Only our own scripts: the data block and the three files; nothing LL2 wrote runs.
    kinds = [(attrs.get("type"), attrs.get("src")) for attrs, _ in parsed.scripts]
    assert kinds == [
        ("application/ld+json", None),
        (None, "/static/dates.js"),
        (None, "/static/builder.js"),
        (None, "/static/item.js"),
    ]
    assert "<script>alert" not in html and "</script><script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Probe" in text_of(html, "item-name")
    # The data block holds the same text, escaped so that it cannot end the element.
    (block,) = [text for attrs, text in parsed.scripts if attrs.get("type")]
    assert "<" not in block and ">" not in block and "&" not in block
    assert "\\u003c/script\\u003e" in block
    data = parsed.json_ld()
    assert data["name"] == f"Kinetica 1 | {HOSTILE_NAME}"
    assert data["description"] == HOSTILE_TEXT
    assert data["location"]["name"].startswith(HOSTILE_TEXT)
    assert HOSTILE_NAME in unescape(parsed.meta["og:title"])


def test_script_json_reads_back_as_the_same_data():
    data = {"name": "</script><!-- a & b > c \u2028 \u2029", "n": [1, "é"]}
    text = script_json(data)
    assert json.loads(text) == data
    assert not set(text) & {"<", ">", "&", "\u2028", "\u2029"}


HOSTILE_IDS = [
    "<script>alert(1)</script>",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "%00",
    "1%00",
    f"{PLAIN}%00",
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e",
    "..",
    "x" * 5000,
    "9" * 400,
    "9" * 12,
    "-1",
    "1.5",
    "1e3",
    "%20",
    "+1",
    "%EF%BC%91%EF%BC%92",  # fullwidth digits
    "%D9%A1%D9%A2",  # Arabic-Indic digits
    "%F0%9F%9A%80",
    "%E2%80%AE",
    "%FF%FE",
    f"{{{PLAIN}}}",
    PLAIN.replace("-", ""),
    PLAIN + "x",
    "'%22%3E%3Cimg%20src=x%3E",
]


@pytest.mark.parametrize("kind", ["launches", "events"])
def test_no_hostile_id_gives_a_5xx_or_is_echoed(items, kind):
    for raw in HOSTILE_IDS:
        for suffix in ("", ".ics"):
            for method in (items.get, items.head):
                response = method(f"/{kind}/{raw}{suffix}")
                assert response.status_code in (400, 404, 405, 414), (raw, response.status_code)
                body = response.data.decode(errors="replace")
                assert "<script" not in body and "<img" not in body and "passwd" not in body
                assert response.mimetype == "text/plain"


def test_ids_are_found_in_any_case_and_unknown_or_malformed_ones_are_404(items):
    upper = items.get(f"/launches/{PLAIN.upper()}")
    assert upper.status_code == 200
    assert Page(upper.data.decode()).link("canonical")["href"].endswith(f"/launches/{PLAIN}")
    assert items.get(f"/launches/{PLAIN.upper()}.ics").status_code == 200
    for path in (
        "/launches/00000000-0000-4000-8000-0000000000ff",
        "/launches/1327",
        "/events/99999999",
        f"/events/{PLAIN}",
        "/events/abc",
    ):
        for suffix in ("", ".ics"):
            response = items.get(path + suffix)
            assert response.status_code == 404, path + suffix
            assert response.data.decode().startswith("404 no ")


def test_an_item_pruned_after_its_grace_is_gone_and_one_in_its_grace_is_not(items):
    for suffix in ("", ".ics"):
        gone = items.get(f"/launches/{RETIRED}{suffix}")
        assert gone.status_code == 410 and "removed from Launch Library 2" in gone.data.decode()
        assert items.get(f"/launches/{REMOVED}{suffix}").status_code == 200


def test_a_page_takes_only_lang_and_ignores_tracking(items):
    plain = items.get(f"/events/{ROLLOUT}")
    shared = items.get(f"/events/{ROLLOUT}?utm_source=x&fbclid=y")
    assert shared.status_code == 200 and shared.data == plain.data
    assert 'data-lang="de"' in items.get(f"/events/{ROLLOUT}?lang=de").data.decode()
    bad = items.get(f"/events/{ROLLOUT}?program=starlink")
    assert bad.status_code == 400 and "'program'" in bad.data.decode()
    assert items.get(f"/events/{ROLLOUT}?lang=%3Cx%3E").status_code == 400


# ------------------------------------------------------------------ HTTP


def test_a_page_is_byte_stable_with_a_strong_etag_304_and_head(items):
    first, second = items.get(f"/launches/{MOVED}"), items.get(f"/launches/{MOVED}")
    assert first.data == second.data and first.headers["ETag"] == second.headers["ETag"]
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = items.get(f"/launches/{MOVED}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    head = items.head(f"/launches/{MOVED}")
    assert head.status_code == 200 and head.data == b"" and head.headers["ETag"] == etag
    assert items.get(f"/launches/{MOVED}", headers={"If-Match": '"other"'}).status_code == 412
    assert items.get(f"/launches/{PLAIN}").headers["ETag"] != etag


def test_a_page_has_the_strict_policy_and_no_inline_script(items):
    response = items.get(f"/launches/{PLAIN}")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and response.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in response.data.decode() and ' style="' not in response.data.decode()


def test_the_packaged_sample_has_pages_too(client):
    for path, name in (
        ("/launches/e1079d3a-c0a6-4b42-bc1d-92e48a5a78fc", "Falcon 9 | Starlink Group 17-39"),
        ("/events/1327", "Booster 19 Rollout to Masseys"),
    ):
        html, parsed = page(client, path)
        assert text_of(html, "item-name") == name
        assert "Sample data as of" in html and parsed.json_ld()["name"] == name


def test_pages_are_counted_as_pages_and_item_calendars_as_feeds():
    assert route_class(f"/launches/{PLAIN}") == "page" and route_class("/events/1") == "page"
    assert route_class(f"/launches/{PLAIN}.ics") == "feed_ics"
    assert route_class("/events/1.ics") == "feed_ics"
    assert route_class("/events/1/x") == "other"


# ------------------------------------------------------------------ links to the pages


def test_the_builder_preview_and_the_widget_agenda_link_to_item_pages(items):
    builder = items.get("/?include=events,launches").data.decode()
    assert f'<a href="/launches/{PLAIN}">Falcon 9 | Starlink Group 17-39</a>' in builder
    widget = items.get("/widget?include=launches").data.decode()
    assert (
        f'<a href="/launches/{PLAIN}" target="_blank" rel="noopener">'
        "Falcon 9 | Starlink Group 17-39</a>"
    ) in widget
