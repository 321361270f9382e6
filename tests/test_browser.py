"""End-to-end tests in real headless Chromium (Debian's, driven by Playwright): the builder,
the widget (also inside an iframe on another origin), and untrusted text shown as text.

Screenshots land in test-artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from itemdata import moved
from ll2data import event_by_name, rebased_launches

from icalfeed import create_app
from icalfeed.base.config import Settings
from icalfeed.data.store import load_sample, write_snapshot
from icalfeed.ll2.models import parse_events, parse_launches

CHROMIUM = Path("/usr/bin/chromium")
# The moment the browser tests live in, for the server ("today", what is upcoming) and for
# every browser context (its clock starts here and runs): the sample's dated events stay
# upcoming and the screenshots stay the same whenever the tests run.
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
FLIGHT_13 = "ac897b9f-44d2-4ff4-8416-1a0a076e98a2"  # moved twice, with webcasts
XSS_NAME = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> Probe'
# A program whose LL2 slug once renamed the download to pwn.html (#19).
HOSTILE_PROGRAM = {
    "id": 990001,
    "name": "Starship 🚀 Tests",
    "slug": "x\"; filename*=UTF-8''pwn.html; y=\"",
}

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI must install Debian's chromium for the browser tests")
    pytest.skip("Debian chromium is not installed (make browser)", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api")


def _snapshot_with_probe(data_dir: Path) -> None:
    """The sample plus one upcoming event whose name and description are hostile, and the
    fixture launches moved into the coming weeks (Starship Flight 13 moved twice)."""
    probe = event_by_name("Booster 19 Rollout")
    probe.update(
        id=999999,
        name=XSS_NAME,
        slug="xss-probe",
        description='<script>window.__pwned=3</script><a href="javascript:alert(1)">x</a>',
        date="2026-12-02T15:00:00Z",
        last_updated="2026-11-20T00:00:00Z",
        location="<b>Starbase</b>",
        vid_urls=[{"url": "javascript:alert(1)"}, {"url": "https://example.org/watch"}],
        program=[*probe["program"], HOSTILE_PROGRAM],
    )
    snapshot, _ = load_sample().merge(parse_events([probe]).items, NOW)
    snapshot, _ = snapshot.merge(parse_launches(rebased_launches(NOW)).items, NOW)
    # Starship Flight 13 moves once more and gets webcasts: an item page with all it shows.
    flight = next(x for x in rebased_launches(NOW) if x["id"] == FLIGHT_13)
    later = moved(flight, 1, NOW - timedelta(days=1))
    later["vid_urls"] = [
        {"url": "https://example.org/restream", "title": "Re-stream", "priority": 1,
         "type": {"name": "Unofficial Webcast"}},
        {"url": "https://example.org/official", "title": "Official webcast", "priority": 10,
         "live": True, "type": {"name": "Official Webcast"}, "publisher": "SpaceX"},
    ]  # fmt: skip
    snapshot, _ = snapshot.merge(parse_launches([later]).items, NOW)
    data_dir.mkdir(parents=True, exist_ok=True)
    write_snapshot(data_dir / "snapshot.json", snapshot)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    from waitress.server import create_server

    data_dir = tmp_path_factory.mktemp("browser") / "var"
    _snapshot_with_probe(data_dir)
    app = create_app(Settings(data_dir=data_dir, offline=True), start_sync=False)
    app.extensions["icalfeed"].store.clock = lambda: NOW
    wsgi = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=wsgi.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{wsgi.effective_port}"
    wsgi.close()


@pytest.fixture(scope="module")
def other_origin(server: str) -> Iterator[str]:
    """A page on another port that frames the widget, like a fan site would."""
    page = (
        "<!doctype html><title>Fan site</title><h1>Our launch calendar</h1>"
        f'<iframe id="embed" src="{server}/widget?type=flyby,rollout&view=month" '
        'width="100%" height="640" title="Spaceflight events"></iframe>'
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield AtNow(instance)
        instance.close()


class AtNow:
    """The browser, each new context of it with its clock installed at `at` (NOW unless
    given; None: the real clock) and running from there."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser

    def new_context(self, at: datetime | None = NOW, **options: Any) -> Any:
        context = self._browser.new_context(**options)
        if at is not None:
            context.clock.install(time=at)
        return context

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, timezone_id="Europe/Paris", locale="en-GB"
    )
    tab = context.new_page()
    tab.errors = []
    tab.dialogs = []
    tab.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.on(
        "console",
        lambda message: tab.errors.append(message.text) if message.type == "error" else None,
    )

    def on_dialog(dialog):
        tab.dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    yield tab
    context.close()


def shot(tab, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_build_a_feed_by_clicking(page, server):
    page.goto(server + "/")
    shot(page, "builder-desktop")
    page.fill('input[data-filter-for="list-type"]', "fly")
    assert page.is_hidden("#type-docking") and page.is_visible("#type-flyby")
    page.check("#type-flyby")
    page.click('label:has(input[name="vague"][value="hide"])')
    page.fill("#alarm", "60, 15")
    expected = f"{server}/events.ics?type=flyby&vague=hide&alarm=15,60"
    page.wait_for_function(
        "expected => document.getElementById('feed-url').value === expected", arg=expected
    )
    # The preview is fetched after the URL is shown: wait for the filtered one (the page
    # came with the unfiltered preview, which has the same flyby in it).
    page.wait_for_function(
        "() => !document.getElementById('preview').textContent.includes('Europa Clipper')"
    )  # only known to the month: hidden by vague=hide
    page.wait_for_selector("#preview #ll2-event-384")
    assert "Solar Orbiter Venus Flyby" in page.inner_text("#preview")
    assert page.text_content("#calendar-name") == "Spaceflight events — Flyby"
    webcal = page.get_attribute("#link-webcal", "href")
    assert webcal == expected.replace("http://", "webcal://")
    google = page.get_attribute("#link-google", "href")
    assert parse_qs(urlsplit(google).query)["cid"] == [webcal]
    outlook = parse_qs(urlsplit(page.get_attribute("#link-outlook", "href")).query)
    assert outlook["url"] == [expected] and outlook["name"] == ["Spaceflight events — Flyby"]
    assert f"{server}/widget?type=flyby&amp;vague=hide&amp;alarm=15,60" in page.input_value(
        "#embed"
    )
    assert page.url.endswith("/?type=flyby&vague=hide&alarm=15,60")
    shot(page, "builder-selected")
    # The server renders the same URL for the same selection (no JavaScript needed).
    page.goto(server + "/?type=flyby&vague=hide&alarm=15,60")
    assert page.input_value("#feed-url") == expected
    assert page.errors == []


def test_builder_adds_launches_to_the_calendar(page, server):
    page.goto(server + "/")
    page.check("#program-spacex-starship")
    page.check("#include-launches")
    expected = f"{server}/feed.ics?program=spacex-starship"
    page.wait_for_function(
        "expected => document.getElementById('feed-url').value === expected", arg=expected
    )

    assert page.text_content("#calendar-name") == (
        "Spaceflight events and launches — SpaceX Starship"
    )
    page.wait_for_selector("#preview [id^=ll2-launch-]")
    assert "Starship | Flight 13" in page.inner_text("#preview")
    assert "include=events,launches" in page.url
    assert "include=events,launches" in page.get_attribute("#widget-link", "href")
    # "Changes as a feed": both kinds unless one is picked (#34).
    changes = f"{server}/changes.atom?program=spacex-starship"
    assert page.get_attribute("#changes-atom", "href") == changes
    page.uncheck("#include-events")
    expected = f"{server}/launches.ics?program=spacex-starship"
    page.wait_for_function(
        "expected => document.getElementById('feed-url').value === expected", arg=expected
    )
    changes = f"{server}/changes.json?program=spacex-starship&include=launches"
    assert page.get_attribute("#changes-json", "href") == changes
    page.wait_for_function("() => !document.querySelector('#preview [id^=ll2-event-]')")
    shot(page, "builder-launches")
    page.reload()  # the page URL keeps the choice
    assert page.is_checked("#include-launches") and not page.is_checked("#include-events")
    assert page.input_value("#feed-url") == expected
    assert page.get_attribute("#changes-json", "href") == changes  # the server says the same
    page.goto(page.get_attribute("#widget-link", "href"))
    page.wait_for_selector("body[data-loaded=true]")
    assert "Starship | Flight 13" in page.inner_text("#agenda")
    assert page.inner_text("h1") == "Spaceflight launches — SpaceX Starship"
    page.click("#view-month")
    assert page.is_visible("#month-grid")
    assert page.errors == []


def test_builder_picks_rockets_and_statuses_once_launches_are_in(page, server):
    page.goto(server + "/")
    assert page.is_hidden("#group-rocket") and page.is_hidden("#group-status")
    page.check("#include-launches")
    page.wait_for_selector("#group-rocket", state="visible")
    page.check("#rocket-falcon-9")
    page.check("#status-go")
    expected = f"{server}/feed.ics?rocket=falcon-9&status=go"
    page.wait_for_function(
        "expected => document.getElementById('feed-url').value === expected", arg=expected
    )
    assert page.text_content("#calendar-name") == "Spaceflight events and launches — Falcon 9"
    page.wait_for_selector("#preview [id^=ll2-launch-]")
    preview = page.inner_text("#preview")
    assert "Falcon 9 |" in preview and "Starship |" not in preview
    shot(page, "builder-rockets")
    page.reload()  # the page URL keeps the choice; the server renders the same feed URL
    assert page.is_visible("#group-rocket") and page.is_checked("#rocket-falcon-9")
    assert page.input_value("#feed-url") == expected
    page.uncheck("#include-launches")  # events only: the launch filters go with them
    page.wait_for_function(
        "expected => document.getElementById('feed-url').value === expected",
        arg=f"{server}/events.ics",
    )
    assert page.is_hidden("#group-rocket")
    assert page.errors == []


def test_builder_on_a_phone(browser, server):
    for width in (375, 320):
        context = browser.new_context(viewport={"width": width, "height": 800}, is_mobile=True)
        tab = context.new_page()
        tab.goto(server + "/?type=flyby")
        overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"page scrolls sideways at {width}px"
        shot(tab, f"builder-phone-{width}")
        context.close()


def test_widget_agenda_month_and_local_times(page, server):
    page.goto(server + "/widget?type=flyby,rollout")
    page.wait_for_selector("body[data-loaded=true]")
    time_text = page.inner_text("#ll2-event-999999 time")
    assert "16:00" in time_text  # 15:00 UTC shown in the viewer's zone (Paris, UTC+1)
    assert page.get_attribute("#ll2-event-999999 time", "title").endswith("15:00 UTC")
    shot(page, "widget-agenda")
    page.click("#view-month")
    assert page.is_visible("#month-grid") and page.is_hidden("#agenda")
    assert page.get_attribute("#view-month", "aria-current") == "page"
    assert page.get_attribute("#view-agenda", "aria-current") is None
    title = page.inner_text("#month-title")
    page.click("#next-month")
    assert page.inner_text("#month-title") != title
    # The probe's month (2 Dec 2026), whatever today is: its chip sits on its day.
    for button in ["#prev-month"] * 24 + ["#next-month"] * 48:
        if page.inner_text("#month-title") == "December 2026":
            break
        page.click(button)
    page.wait_for_selector("#month-grid .chip[aria-label*='Probe']")
    shot(page, "widget-month")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") in ("A", "BUTTON")
    assert page.errors == []


def test_widget_dark_theme_and_narrow(browser, server):
    context = browser.new_context(viewport={"width": 320, "height": 640})
    tab = context.new_page()
    tab.goto(server + "/widget?theme=dark&view=month")
    tab.wait_for_selector("body[data-loaded=true]")
    background = tab.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(23, 27, 36)"
    assert tab.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    shot(tab, "widget-dark-320")
    context.close()


def test_untrusted_text_is_shown_as_text(page, server):
    for path in ("/widget", "/?program=spacex-starship", "/widget?view=month&id=999999&year=2026"):
        page.goto(server + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__pwned") is None, path
        assert page.locator("img[src=x]").count() == 0, path
    page.goto(server + "/widget")
    assert XSS_NAME in page.inner_text("#ll2-event-999999 .event-title")
    watch = page.get_attribute("#ll2-event-999999 a.watch", "href")
    assert watch == "https://example.org/watch"
    assert page.dialogs == []


def test_widget_works_inside_an_iframe_on_another_origin(page, other_origin, server):
    page.goto(other_origin)
    frame_element = page.wait_for_selector("#embed")
    frame = frame_element.content_frame()
    frame.wait_for_selector("body[data-loaded=true]")
    assert frame.is_visible("#month-grid")
    assert unquote(frame.url).startswith(server + "/widget")
    shot(page, "widget-in-iframe")
    assert page.errors == []


def test_directories_list_feeds(page, server):
    page.goto(server + "/programs")
    link = page.get_attribute("#spacex-starship-link-webcal", "href")
    assert link.endswith("/programs/spacex-starship.ics")
    page.fill('input[data-filter-for="directory"]', "starship")
    assert page.is_hidden("#programs-international-space-station")
    shot(page, "directory-programs")


def test_a_hostile_program_downloads_as_an_ics_file(browser, server):
    context = browser.new_context(accept_downloads=True)
    tab = context.new_page()
    tab.goto(server + "/programs")
    button = tab.locator("a[id$='-link-download'][href*='/programs/x-filename-utf-8']")
    with tab.expect_download() as info:
        button.click()
    name = info.value.suggested_filename
    assert name.endswith(".ics") and "html" not in name.rsplit(".", 1)[-1], name
    assert name == "Spaceflight events — Starship 🚀 Tests.ics"
    with tab.expect_download() as info:
        tab.evaluate(
            "url => { const a = document.createElement('a'); a.href = url; a.download = '';"
            " document.body.append(a); a.click(); }",
            server + "/events.ics?program=990001&start=2020-01-01",
        )
    assert info.value.suggested_filename.endswith(".ics")
    context.close()


def test_pages_follow_the_dark_colour_scheme(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="dark")
    tab = context.new_page()
    tab.goto(server + "/?type=flyby")
    background = tab.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 18, 24)"
    shot(tab, "builder-dark")
    context.close()


# The first run (#33): a fresh offline server serves the packaged sample, opened a year after
# the sample was captured; it is shown as of its own date, says so, and is never empty.
A_YEAR_AFTER_THE_SAMPLE = datetime(2027, 9, 26, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory) -> Iterator[str]:
    from waitress.server import create_server

    data_dir = tmp_path_factory.mktemp("demo") / "var"  # no snapshot: the sample
    app = create_app(Settings(data_dir=data_dir, offline=True), start_sync=False)
    app.extensions["icalfeed"].store.clock = lambda: A_YEAR_AFTER_THE_SAMPLE
    wsgi = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=wsgi.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{wsgi.effective_port}"
    wsgi.close()


def test_offline_demo_a_year_after_the_sample_is_full(browser, demo_server):
    context = browser.new_context(
        at=A_YEAR_AFTER_THE_SAMPLE, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(demo_server + "/")
    banner = tab.inner_text(".sample-banner")
    assert banner.startswith("Sample data as of 26 September 2026") and "not live" in banner
    tab.wait_for_selector("#preview li.event")
    tab.check("#include-launches")
    tab.wait_for_selector("#preview [id^=ll2-launch-]")
    assert "No upcoming events" not in tab.inner_text("#preview")
    # The countdown counts from the sample's moment, not from the browser's 2027.
    tab.wait_for_selector("#countdown:not([hidden])")
    # 13 min 27 s from the launches' capture (14:36:05) to Starlink 17-39 (14:49:32), less
    # the seconds the page has been open.
    assert re.fullmatch("T\u221200:1[23]:[0-5][0-9]", tab.inner_text("#countdown .countdown-clock"))
    shot(tab, "builder-offline-demo")
    # The README's first screen (docs/builder.png): what a newcomer sees after `make run`.
    tab.screenshot(path=str(ARTIFACTS / "builder-first-screen.png"))
    tab.uncheck("#include-events")
    tab.wait_for_function("() => !document.querySelector('#preview [id^=ll2-event-]')")
    assert tab.query_selector_all("#preview li.event")
    tab.goto(demo_server + "/widget?view=month")
    tab.wait_for_selector("body[data-loaded=true]")
    assert tab.inner_text("#month-title") == "September 2026"
    assert tab.query_selector_all("#month-grid .chip")
    assert "Sample data as of" in tab.inner_text("body")
    tab.goto(demo_server + "/widget?include=launches&view=month")
    tab.wait_for_selector("body[data-loaded=true]")
    assert tab.inner_text("#month-title") == "July 2026"
    assert tab.query_selector_all("#month-grid .chip")
    shot(tab, "widget-offline-demo")
    assert errors == []
    context.close()
