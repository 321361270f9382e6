"""Item pages in real Chromium (#34): the builder's preview, the widget's agenda and its
month grid lead to them; the page counts down and shows local times under the strict
policy, and its JSON-LD data block is never run. Screenshots land in test-artifacts/."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from test_browser import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    FLIGHT_13,
    NOW,
    browser,
    page,
    server,
    shot,
)

# Every policy violation the page meets, kept for the test to read.
WATCH_POLICY = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


def test_the_builder_preview_links_each_item_to_its_page(page, server):  # noqa: F811
    page.goto(server + "/?program=spacex-starship&include=events,launches")
    page.wait_for_load_state("networkidle")  # the preview as the script redraws it
    link = page.locator(f'#preview a[href="/launches/{FLIGHT_13}"]')
    assert link.inner_text() == "Starship | Flight 13"
    assert link.get_attribute("target") is None  # the builder is our own page
    link.click()
    page.wait_for_url(f"{server}/launches/{FLIGHT_13}")
    assert page.inner_text("h1") == "Starship | Flight 13"
    assert page.errors == []


def test_the_widget_agenda_and_month_grid_open_item_pages_beside_the_widget(page, server):  # noqa: F811
    page.goto(server + "/widget?include=events,launches")
    page.wait_for_selector("body[data-loaded=true]")
    link = page.locator(f'#agenda a[href="/launches/{FLIGHT_13}"]')
    assert (link.get_attribute("target"), link.get_attribute("rel")) == ("_blank", "noopener")
    event = page.locator('#agenda a[href="/events/999999"]')  # the hostile probe: text only
    assert event.get_attribute("target") == "_blank"
    with page.expect_popup() as opened:
        link.click()
    popup = opened.value
    popup.wait_for_load_state()
    assert urlsplit(popup.url).path == f"/launches/{FLIGHT_13}"
    assert popup.inner_text("h1") == "Starship | Flight 13"
    popup.close()

    page.click("#view-month")
    for _ in range(3):  # Flight 13's NET is three weeks after NOW (1 Dec 2026)
        if page.locator(f'#month-grid a.chip[href="/launches/{FLIGHT_13}"]').count():
            break
        page.click("#next-month")
    chip = page.locator(f'#month-grid a.chip[href="/launches/{FLIGHT_13}"]')
    assert (chip.get_attribute("target"), chip.get_attribute("rel")) == ("_blank", "noopener")
    assert page.locator("#month-grid a.chip:not([href^='/'])").count() == 0  # all to pages
    with page.expect_popup() as opened:
        chip.click()
    assert urlsplit(opened.value.url).path == f"/launches/{FLIGHT_13}"
    assert page.evaluate("window.__pwned") is None
    assert page.errors == []


def test_a_launch_page_counts_down_in_local_time_under_the_strict_policy(browser, server):  # noqa: F811
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, timezone_id="Europe/Paris", locale="en-GB"
    )
    context.add_init_script(WATCH_POLICY)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    response = tab.goto(f"{server}/launches/{FLIGHT_13}")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    tab.wait_for_selector("#countdown:not([hidden])")
    assert tab.inner_text(".countdown-clock").startswith("T\N{MINUS SIGN}22d")  # 22 d 4 h
    # 23 Dec 2026 13:00 UTC (the NET, moved a day) is 14:00 in Paris.
    assert "23 Dec 2026, 14:00" in tab.inner_text("#item-date")
    assert tab.get_attribute("#item-date", "title").endswith("13:00 UTC")
    assert tab.inner_text("#moved") == "Moved 2 times:"
    assert tab.locator("#webcasts li").first.inner_text().startswith("Official webcast")
    # The JSON-LD is data: read, never run, and no violation of the policy for it.
    data = json.loads(tab.inner_text("script[type='application/ld+json']"))
    assert data["eventStatus"] == "https://schema.org/EventRescheduled"
    assert data["name"] == "Starship | Flight 13" and len(data["previousStartDate"]) == 2
    assert tab.evaluate("window.__violations") == []
    assert tab.get_attribute("#add-google", "href").startswith(
        "https://calendar.google.com/calendar/render?action=TEMPLATE&text=Starship%20%7C"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / "item-page.png"), full_page=True)
    # Its calendar: the alternate link a browser or a feed reader finds.
    calendar = tab.get_attribute("link[rel=alternate][type='text/calendar']", "href")
    assert calendar == f"{server}/launches/{FLIGHT_13}.ics"
    assert tab.request.get(calendar).text().count("BEGIN:VEVENT") == 1
    assert errors == []
    context.close()


def test_an_event_page_links_its_launch_and_fits_a_phone(browser, server):  # noqa: F811
    context = browser.new_context(viewport={"width": 375, "height": 800}, is_mobile=True)
    tab = context.new_page()
    tab.goto(f"{server}/events/1327")
    assert tab.inner_text("h1") == "Booster 19 Rollout to Masseys"
    assert tab.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    shot(tab, "item-event-phone")
    tab.click(f'#linked a[href="/launches/{FLIGHT_13}"]')
    tab.wait_for_url(f"{server}/launches/{FLIGHT_13}")
    assert tab.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    shot(tab, "item-launch-phone")
    context.close()
