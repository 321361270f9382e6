"""Accessibility in the real browser (#17): axe-core's WCAG 2.1 A and AA rules on every page
and widget state, light and dark, desktop and phone width; the keyboard path through the
builder and the widget; what live regions announce.

axe-core comes from npm (tests/browser/package.json, installed by `make test`) and is
injected by Playwright into Debian's Chromium: nothing is downloaded while the tests run.
Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from test_browser import ARTIFACTS, FLIGHT_13, NOW, browser, page, server  # noqa: F401 (fixtures)

AXE = Path(__file__).resolve().parent / "browser" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PAGES = {
    "builder": "/",
    "programs": "/programs",
    "agencies": "/agencies",
    "types": "/types",
    "widget-agenda": "/widget?include=events,launches&view=agenda",
    "widget-month": "/widget?include=events,launches&view=month",
    "item-launch": f"/launches/{FLIGHT_13}",  # moved twice, with webcasts and updates (#34)
    "item-event": "/events/1327",  # naming a launch held here
}
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 740}}

if not AXE.exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI must install axe-core for the accessibility tests (make axe)")
    pytest.skip("axe-core is not installed (make axe)", allow_module_level=True)


def audit(tab) -> dict:
    """axe's WCAG 2.1 A/AA verdict on what the tab shows now."""
    tab.add_script_tag(path=str(AXE))
    return tab.evaluate(
        """async (tags) => {
          const r = await axe.run(document, {runOnly: {type: "tag", values: tags}});
          const nodes = (v) => v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary}`);
          return {
            version: axe.version,
            rules: r.passes.length + r.violations.length + r.incomplete.length
              + r.inapplicable.length,
            passed: r.passes.length,
            review: r.incomplete.map((v) => v.id),
            why: r.incomplete.map((v) => ({id: v.id, nodes: nodes(v).slice(0, 40)})),
            violations: r.violations.map((v) => ({id: v.id, help: v.help, nodes: nodes(v)})),
          };
        }""",
        WCAG_21_A_AA,
    )


@pytest.fixture(scope="module")
def audited() -> Iterator[list[str]]:
    """What was checked, printed once at the end (pytest -s shows it; CI logs keep it)."""
    lines: list[str] = []
    yield lines
    report = "\n".join(lines)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "axe-report.txt").write_text(report + "\n")
    print("\n" + report)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_wcag_21_a_or_aa_violation(browser, server, audited, scheme, width):  # noqa: F811
    context = browser.new_context(
        viewport=WIDTHS[width], color_scheme=scheme, bypass_csp=True, locale="en-GB"
    )
    try:
        tab = context.new_page()
        found = {}
        for name, path in PAGES.items():
            tab.goto(server + path)
            if name.startswith("widget"):
                tab.wait_for_selector("body[data-loaded]")
            result = audit(tab)
            found[name] = result["violations"]
            review = ",".join(result["review"])
            audited.append(
                f"axe-core {result['version']} {name:14} {scheme:5} {width:7}: "
                f"{result['rules']} WCAG 2.1 A/AA rules, {result['passed']} passed, "
                f"{len(result['violations'])} violations"
                + (f", for a person to review: {review}" if review else "")
            )
            tab.screenshot(path=str(ARTIFACTS / f"axe-{name}-{scheme}-{width}.png"), full_page=True)
        failing = {name: found[name] for name in found if found[name]}
        assert not failing, json.dumps(failing, indent=1)
    finally:
        context.close()


# ------------------------------------------------------------------ the keyboard path

FOCUS_RING = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  // A visually hidden radio shows its ring on its label (site.css, :has(:focus-visible)).
  const label = el.closest("label");
  const shown = label && getComputedStyle(el).opacity === "0" ? label : el;
  const style = getComputedStyle(shown);
  return {
    id: el.id || el.getAttribute("data-copy") || el.textContent.trim().slice(0, 30),
    tag: el.tagName,
    ring: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
  };
}"""


def tab_through(tab, limit: int = 400) -> list[dict]:
    """Press Tab until focus leaves the page (or comes back to where it began): every stop,
    with whether it shows a focus ring."""
    stops: list[dict] = []
    for _ in range(limit):
        tab.keyboard.press("Tab")
        stop = tab.evaluate(FOCUS_RING)
        if stop is None or (stops and stop == stops[0]):
            return stops
        stops.append(stop)
    raise AssertionError(f"focus never left the page after {limit} presses of Tab: a trap")


@pytest.fixture
def keyboard_tab(browser) -> Iterator[object]:  # noqa: F811
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="Europe/Paris"
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    tab = context.new_page()
    yield tab
    context.close()


def status_says(tab, words: str) -> None:
    tab.wait_for_function(
        "words => document.getElementById('status').textContent.includes(words)", arg=words
    )


def test_the_builder_by_keyboard_alone(keyboard_tab, server):  # noqa: F811
    tab = keyboard_tab
    tab.goto(server + "/")
    tab.wait_for_load_state("networkidle")  # the preview's first refresh, before any Tab
    stops = tab_through(tab)
    names = [s["id"] for s in stops]
    for wanted in (
        "include-launches",
        "type-flyby",
        "lang",
        "update",
        "#feed-url",
        "link-webcal",
        "link-google",
        "link-outlook",
        "link-office365",
        "link-download",
        "#embed",
    ):
        assert wanted in names, f"{wanted} is not reachable by Tab: {names}"
    assert [s for s in stops if not s["ring"]] == []  # a visible focus ring at every stop
    # Operate it: tick a type with Space, copy the URL and the embed code with Enter.
    tab.focus("#type-flyby")
    tab.keyboard.press("Space")
    status_says(tab, "Preview updated")
    tab.wait_for_function("document.getElementById('feed-url').value.includes('type=flyby')")
    tab.focus('button[data-copy="#feed-url"]')
    tab.keyboard.press("Enter")
    status_says(tab, "Feed URL copied")
    assert tab.evaluate("document.activeElement.dataset.copy") == "#feed-url"  # focus stays
    assert tab.evaluate("navigator.clipboard.readText()") == tab.input_value("#feed-url")
    tab.focus('button[data-copy="#embed"]')
    tab.keyboard.press("Enter")
    status_says(tab, "Embed code copied")
    assert "<iframe" in tab.evaluate("navigator.clipboard.readText()")
    tab.screenshot(path=str(ARTIFACTS / "keyboard-builder.png"))


def test_the_widget_by_keyboard_alone(keyboard_tab, server):  # noqa: F811
    tab = keyboard_tab
    tab.goto(server + "/widget?include=events,launches")
    tab.wait_for_selector("body[data-loaded]")
    names = [s["id"] for s in tab_through(tab)]
    assert "view-agenda" in names and "view-month" in names
    tab.focus("#view-month")
    tab.keyboard.press("Enter")
    assert tab.is_visible("#month-grid") and tab.get_attribute("#view-month", "aria-current")
    stops = tab_through(tab)
    assert {"prev-month", "next-month"} <= {s["id"] for s in stops}
    assert [s for s in stops if not s["ring"]] == []
    title = tab.inner_text("#month-title")
    tab.focus("#next-month")
    tab.keyboard.press("Enter")
    assert tab.inner_text("#month-title") != title
    assert tab.get_attribute("#month-title", "aria-live") == "polite"  # the new month is read
    tab.keyboard.press("Enter")
    tab.focus("#prev-month")
    tab.keyboard.press("Enter")
    tab.keyboard.press("Enter")
    assert tab.inner_text("#month-title") == title
    tab.screenshot(path=str(ARTIFACTS / "keyboard-widget-month.png"))


def test_an_item_page_by_keyboard_alone(keyboard_tab, server):  # noqa: F811
    tab = keyboard_tab
    tab.goto(f"{server}/launches/{FLIGHT_13}")
    stops = tab_through(tab)
    names = {s["id"] for s in stops}
    for wanted in ("#calendar-url", "follow-link-webcal", "follow-link-google", "add-once"):
        assert wanted in names, f"{wanted} is not reachable by Tab: {names}"
    assert "add-google" in names and "Official webcast" in names  # the live one, first
    assert [s for s in stops if not s["ring"]] == []
    tab.focus('button[data-copy="#calendar-url"]')
    tab.keyboard.press("Enter")
    status_says(tab, "Calendar URL of this launch copied")
    assert tab.evaluate("navigator.clipboard.readText()").endswith(f"/launches/{FLIGHT_13}.ics")


# ------------------------------------------------------------------ language and countdown

T_MINUS = "T\N{MINUS SIGN}"  # as the countdown writes it
DASH = "\N{EN DASH}"  # as Intl writes a range
VAGUE_AND_DAY = "/widget?type=flyby,orbital-insertion"  # known to the month, year or day


def localised(browser, server, path: str, lang: str, zone: str, at: datetime):  # noqa: F811
    """A tab showing `path` in a browser whose own language is English, with `lang=` asked
    for, its clock stopped at `at`, in time zone `zone`."""
    context = browser.new_context(
        at=at - timedelta(minutes=1),
        viewport={"width": 900, "height": 900},
        locale="en-US",
        timezone_id=zone,
    )
    tab = context.new_page()
    tab.clock.pause_at(at)  # forward to `at`, and stopped there
    tab.goto(f"{server}{path}&lang={lang}")
    tab.wait_for_selector("body[data-loaded]")
    return context, tab


def texts(tab, selector: str) -> list[str]:
    return tab.eval_on_selector_all(selector, "nodes => nodes.map((n) => n.textContent.trim())")


@pytest.mark.parametrize(
    ("lang", "zone", "month", "first_weekday", "europa", "solar_orbiter"),
    [
        ("de", "Europe/Berlin", "Dezember 2026", "Mo", "NET Dezember 2026", "Do., 24. Dez. 2026"),
        ("ja", "Asia/Tokyo", "2026年12月", "日", "NET 2026年12月", "2026年12月24日(木)"),
    ],
)
def test_the_widget_in_the_visitors_language(
    browser,  # noqa: F811
    server,  # noqa: F811
    lang,
    zone,
    month,
    first_weekday,
    europa,
    solar_orbiter,
):
    at = NOW
    context, tab = localised(browser, server, VAGUE_AND_DAY + "&view=agenda", lang, zone, at)
    try:
        agenda = dict(zip(texts(tab, ".event-title"), texts(tab, ".when time"), strict=True))
        assert agenda["Europa Clipper Earth Flyby"] == europa  # the month LL2 knows, no day
        assert agenda["Solar Orbiter Venus Flyby"] == solar_orbiter  # a day, no time
        assert tab.get_attribute(".when time", "lang") == lang
        foot = tab.inner_text(".widget-foot")
        assert "Times in UTC" not in foot and zone in foot  # the visitor's own zone, named
        tab.screenshot(path=str(ARTIFACTS / f"widget-agenda-{lang}.png"), full_page=True)
        tab.click("#view-month")
        assert tab.inner_text("#month-title") == month
        assert texts(tab, "#month-grid th")[0] == first_weekday
        # Known to the month: listed under the grid with its month, never on a day.
        assert "Europa Clipper" not in tab.inner_text("#month-grid")
        assert europa in texts(tab, "#month-vague .tag")
        assert "Solar Orbiter" in tab.inner_text("#month-grid")
        assert f"lang={lang}" in tab.get_attribute("#view-agenda", "href")
        tab.screenshot(path=str(ARTIFACTS / f"widget-month-{lang}.png"), full_page=True)
    finally:
        context.close()


def test_the_clock_follows_the_language(browser, server):  # noqa: F811
    """12- or 24-hour by the language: en-US writes PM, German does not."""
    at = NOW
    shown = {}
    for lang in ("en-US", "de"):
        context, tab = localised(browser, server, "/widget?include=launches", lang, "UTC", at)
        shown[lang] = " ".join(texts(tab, ".when time[data-timed]"))
        context.close()
    assert " AM" in shown["en-US"] or " PM" in shown["en-US"]
    assert " AM" not in shown["de"] and " PM" not in shown["de"] and "Dez." in shown["de"]


def test_the_server_agenda_without_javascript_is_utc_and_says_so(browser, server):  # noqa: F811
    context = browser.new_context(at=None, java_script_enabled=False, locale="de-DE")
    tab = context.new_page()
    tab.goto(server + "/widget?include=launches&lang=de")
    assert "Times in UTC" in tab.inner_text(".widget-foot")
    assert all(t.endswith("UTC") for t in texts(tab, ".when time[data-timed]"))
    context.close()


def test_a_bad_language_tag_is_a_clear_error(page, server):  # noqa: F811
    response = page.goto(server + "/widget?lang=%3Cscript%3E")
    assert response.status == 400
    assert "lang must be a language tag" in page.inner_text(".error")


COUNT_INTERVALS = """
(() => {
  const live = new Set();
  const set = window.setInterval, clear = window.clearInterval;
  window.setInterval = (...a) => { const id = set(...a); live.add(id); return id; };
  window.clearInterval = (id) => { live.delete(id); return clear(id); };
  window.__liveIntervals = () => live.size;
})();
"""


def test_a_countdown_for_the_next_timed_launch_that_stops_at_zero(browser, server):  # noqa: F811
    context = browser.new_context(locale="en-GB", timezone_id="UTC")
    context.add_init_script(COUNT_INTERVALS)
    tab = context.new_page()
    tab.goto(server + "/widget?include=launches")
    tab.wait_for_selector("body[data-loaded]")
    assert tab.is_visible("#countdown")
    target = datetime.fromisoformat(tab.get_attribute(".countdown-clock", "datetime"))
    assert tab.inner_text(".countdown-clock").startswith(T_MINUS)
    assert tab.get_attribute(".countdown-clock", "role") == "timer"
    tab.screenshot(path=str(ARTIFACTS / "widget-countdown.png"))
    context.close()

    start = target - timedelta(seconds=3)
    context = browser.new_context(
        at=start - timedelta(minutes=1), locale="en-GB", timezone_id="UTC"
    )
    tab = context.new_page()
    tab.clock.pause_at(start)  # forward to `start`; only run_for moves it from there
    tab.add_init_script(COUNT_INTERVALS)  # after the clock: it counts the fake clock's timers
    tab.goto(server + "/widget?include=launches")
    tab.wait_for_selector("body[data-loaded]")
    assert tab.inner_text(".countdown-clock") == T_MINUS + "00:00:03"
    assert tab.evaluate("window.__liveIntervals()") == 1
    tab.clock.run_for(1000)
    assert tab.inner_text(".countdown-clock") == T_MINUS + "00:00:02"
    tab.clock.run_for(5000)
    assert tab.inner_text(".countdown-clock") == T_MINUS + "00:00:00"
    assert tab.get_attribute("#countdown", "data-done") == "true"
    assert tab.evaluate("window.__liveIntervals()") == 0  # stopped: no timer left behind
    context.close()


def test_no_countdown_for_vague_or_day_dates(page, server):  # noqa: F811
    page.goto(server + VAGUE_AND_DAY)
    page.wait_for_selector("body[data-loaded]")
    assert page.is_hidden("#countdown")


def test_reduced_motion_counts_in_minutes(browser, server):  # noqa: F811
    context = browser.new_context(reduced_motion="reduce", locale="en-GB", timezone_id="UTC")
    tab = context.new_page()
    tab.goto(server + "/widget?include=launches")
    tab.wait_for_selector("body[data-loaded]")
    assert tab.inner_text(".countdown-clock").count(":") == 1  # no ticking seconds
    context.close()


def test_the_builder_preview_counts_down_and_reuses_one_timer(browser, server):  # noqa: F811
    context = browser.new_context(locale="en-GB", timezone_id="UTC")
    context.add_init_script(COUNT_INTERVALS)
    tab = context.new_page()
    tab.goto(server + "/?include=events,launches")
    tab.wait_for_selector("#countdown:not([hidden])")  # from the start, not only after a change
    assert tab.evaluate("window.__liveIntervals()") == 1
    for box in ("#include-launches", "#include-events", "#include-events"):
        tab.click(box)
        tab.wait_for_timeout(400)
    tab.wait_for_selector("#countdown:not([hidden])")
    assert tab.inner_text(".countdown-clock").startswith(T_MINUS)
    assert tab.evaluate("window.__liveIntervals()") == 1
    context.close()


# ------------------------------------------------------------------ colour contrast of the marks

CONTRAST = """(selectors) => {
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const [r, g, b, a] = rgb(getComputedStyle(node).backgroundColor);
      if (a === undefined || a === 1) return [r, g, b];
    }
    return [255, 255, 255];
  };
  const found = [];
  for (const selector of selectors) {
    for (const el of document.querySelectorAll(selector)) {
      if (!el.getClientRects().length || !el.textContent.trim()) continue;
      const [fg, bg] = [lum(rgb(getComputedStyle(el).color)), lum(background(el))];
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      const text = el.textContent.trim().slice(0, 20);
      found.push({selector, text, ratio: Math.round(ratio * 100) / 100});
      break;
    }
  }
  return found;
}"""
MARKS = [
    ".tag:not(.warn):not(.moved)",  # "date not final"
    ".tag.warn",  # "cancelled upstream"
    ".tag.moved",
    ".agenda .vague time",
    ".count",
    ".count .total",
    ".event-meta",
    ".muted",
    ".countdown-clock",
    ".countdown-label",
    ".grid .chip",
    ".grid td.other .day-number",
    ".button.primary",
    ".segmented .toggle[aria-current]",
    ".topbar nav a",
    ".kicker",  # an item's page (#34)
    ".facts dt",
    ".tag.live",
    ".history li",
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_status_marks_keep_their_contrast(browser, server, scheme):  # noqa: F811
    """axe leaves some text to a person (too short to judge, or scrolled in a list): the
    marks and numbers are measured here, in both themes, against WCAG's 4.5:1."""
    context = browser.new_context(color_scheme=scheme, locale="en-GB")
    tab = context.new_page()
    measured = []
    for path in (
        "/?include=events,launches",
        "/widget?include=events,launches",
        "/widget?include=events,launches&view=month",
        f"/launches/{FLIGHT_13}",
    ):
        tab.goto(server + path)
        tab.wait_for_load_state("networkidle")
        measured += tab.evaluate(CONTRAST, MARKS)
    context.close()
    shown = {m["selector"] for m in measured}
    assert {".tag:not(.warn):not(.moved)", ".count", ".countdown-clock", ".grid .chip"} <= shown
    assert {".kicker", ".facts dt", ".tag.live"} <= shown
    low = [m for m in measured if m["ratio"] < 4.5]
    assert low == [], low


def test_every_vague_precision_is_phrased_as_its_period(page, server):  # noqa: F811
    """What `when` writes for each precision LL2 has, in German: a period, never a day it
    does not know (a week is the week's days)."""
    page.goto(server + "/widget?lang=de")
    written = page.evaluate(
        """() => Object.fromEntries([
          ["quarter_2", "2026-06-30"], ["half_2", "2026-12-31"], ["week", "2026-12-07"],
          ["month", "2026-11-30"], ["year", "2026-12-31"], ["decade", "2030-12-31"],
          ["day", "2026-12-24"], ["unknown", "2026-12-10"],
        ].map(([name, start]) => [name, window.icalfeedDates.when({
          start, all_day: true, net: "NET 2030s", precision: {name, vague: name !== "day"},
        })]))"""
    )
    assert written == {
        "quarter_2": f"NET Apr.{DASH}Juni 2026",
        "half_2": f"NET Juli{DASH}Dez. 2026",
        "week": f"NET 7.{DASH}13. Dez. 2026",
        "month": "NET November 2026",
        "year": "NET 2026",
        "decade": "NET 2030s",  # no Intl form: LL2's words from the server
        "day": "Do., 24. Dez. 2026",
        "unknown": "NET Dezember 2026",  # no day it may not know
    }


def test_the_countdown_counts_to_t0_of_the_first_item_known_to_the_minute(page, server):  # noqa: F811
    """Hour, day and vague items never count, whatever their order; a launch counts to its
    NET, not to its window's opening; a cancelled one does not count."""
    page.goto(server + "/widget?include=launches")
    page.wait_for_selector("body[data-loaded]")
    picked = page.evaluate(
        """(now) => {
          const box = document.getElementById("countdown");
          const at = (hours) => new Date(now + hours * 3600e3).toISOString();
          const item = (name, hours, {precision = "minute", ...extra} = {}) => ({
            display_name: name, start: at(hours), all_day: false, status: "confirmed",
            ...extra, precision: {name: precision, vague: false},
          });
          const next = window.icalfeedDates.countdown(box, [
            item("hourly", 1, {precision: "hour"}),
            item("daily", 2, {precision: "day", all_day: true}),
            item("gone", 3, {status: "cancelled"}),
            item("window", 4, {net_utc: at(5)}),
            item("later", 4.5, {precision: "second"}),
          ]);
          return [next.display_name, box.querySelector("time").dateTime];
        }""",
        NOW.timestamp() * 1000,
    )
    assert picked[0] == "later"  # the window opens at 4 h, but its T-0 (NET) is at 5 h
    page.evaluate(
        """(now) => window.icalfeedDates.countdown(document.getElementById("countdown"), [
          {display_name: "window", start: new Date(now + 3600e3).toISOString(),
           net_utc: new Date(now + 7200e3).toISOString(), all_day: false, status: "go",
           precision: {name: "second", vague: false}}])""",
        NOW.timestamp() * 1000,
    )
    assert page.get_attribute(".countdown-clock", "datetime") == (
        (NOW + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    )


def test_a_directory_by_keyboard_alone(keyboard_tab, server):  # noqa: F811
    tab = keyboard_tab
    tab.goto(server + "/programs")
    stops = tab_through(tab, limit=1500)
    names = {s["id"] for s in stops}
    assert {"spacex-starship-link-webcal", "#url-spacex-starship"} <= names
    assert [s for s in stops if not s["ring"]] == []
    tab.focus('button[data-copy="#url-spacex-starship"]')
    tab.keyboard.press("Enter")
    status_says(tab, "Feed URL for SpaceX Starship copied")
    assert tab.evaluate("navigator.clipboard.readText()").endswith("/programs/spacex-starship.ics")
