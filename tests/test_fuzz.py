"""Property-based fuzzing (Hypothesis) of the two untrusted inputs: query strings and paths
from anyone on the web, and event JSON from Launch Library 2.

1. Any URL under the feed routes answers below 500; a 4xx (400, 404, 414) is one line of
   plain text starting with its status; a 200 parses (iCalendar or JSON).
2. Any LL2-shaped event (a real one with fields replaced by junk) parses, merges and renders
   without raising, into a calendar that parses, passes the strict RFC lint and the basic
   byte rules, and JSON that round-trips.

The bugs these properties found are pinned as small regression tests at the end.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import subprocess
import sys
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

import feedparser
import pytest
from conftest import ICSCHECK, REQUIRE_ICSCHECK, icscheck_missing, need_icscheck
from flask.testing import FlaskClient
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from ll2data import event_by_name

from icalfeed import create_app
from icalfeed.base.config import Settings
from icalfeed.base.errors import QueryError
from icalfeed.data.snapshot import Snapshot
from icalfeed.data.store import load_sample
from icalfeed.feeds.meaning import launch_span
from icalfeed.feeds.output import render_feed
from icalfeed.feeds.query import EVENTS_ONLY, EVERYTHING, KNOWN, LAUNCHES_ONLY, FeedQuery
from icalfeed.ll2.models import parse_events, parse_launches

LINT = ICSCHECK.parent / "checkers" / "ics_lint.py"
LINT_PYTHON = ICSCHECK.parent / "venv" / "bin" / "python"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DAY = datetime(2026, 11, 25, tzinfo=UTC)
ALL = "start=1950-01-01"
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)


# =========================================================================== 1. URLs

CATALOG_PARAMS = {
    "agency",
    "program",
    "type",
    "exclude_agency",
    "exclude_program",
    "exclude_type",
    "agency__ids",
    "program__ids",
    "type__ids",
    "lsp__id",
    "lsp__name",
}
NUMBER_PARAMS = {"year", "month", "day", "id", "spacestation__ids", "expedition__ids", "alarm"}
CATALOG_WORDS = [
    "spacex-starship",
    "SpaceX Starship",
    "1",
    "iss",
    "International Space Station",
    "docking",
    "spacewalk",
    "EVA",
    "nasa",
    "SpX",
    "esa",
    "artemis",
    "static-fire",
    "press-event",
    "startship",
    "rollouts",
    "0",
    "-1",
    "999999999",
]
NASTY_CHARS = "\x00\x01\x08\x1f\x7f\t\r\n \u00a0\u2028\u202e\u200b,;:%&=+#?/\\\"'<>😀é文"


def _date_texts() -> st.SearchStrategy[str]:
    moments = st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=14))]),
    )
    return st.one_of(
        st.dates(min_value=date(1, 1, 1)).map(date.isoformat),
        st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 1, 1)).map(date.isoformat),
        moments.map(datetime.isoformat),
        moments.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
        st.sampled_from(
            [
                "2026-02-30",
                "2026-13-01",
                "2026-06-01T25:00:00Z",
                "2026-06-01T12:00:00 02:00",
                "2026-06-01T12:00:00+0200",
                "2026-06-01T12:00:00.123456789Z",
                "20260601",
                "2026-W23",
                "now",
                "1e9",
                "1899-12-31T23:59:59Z",
                "2200-12-31T23:59:59-14:00",
            ]
        ),
    )


_values: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(CATALOG_WORDS),
    _date_texts(),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(["", " ", "00", "1.5", "1e3", " 7 ", "٣", "10080", "10081", "2201", "9" * 200]),
    st.sampled_from(["mark", "hide", "MARK", "true", "yes", "off", "maybe"]),
    st.text(max_size=30),
    st.text(st.sampled_from(NASTY_CHARS), max_size=30),
)
VALUES = st.one_of(
    _values,
    st.lists(_values, min_size=2, max_size=60).map(",".join),
    st.integers(190, 4000).map(lambda n: "x" * n),
)
NAMES = st.one_of(
    st.sampled_from(KNOWN),
    st.sampled_from(KNOWN).map(str.upper),
    st.sampled_from(KNOWN).map(lambda name: f" {name}\t"),
    st.sampled_from(["", "agnecy", "prgram", "types", "date__gte ", "a[b]", "__proto__"]),
    st.text(max_size=20),
    st.text(st.sampled_from(NASTY_CHARS), max_size=10),
)
_words = st.lists(st.sampled_from(CATALOG_WORDS), min_size=1, max_size=3).map(",".join)
_ints = st.lists(st.integers(0, 2000).map(str), min_size=1, max_size=3).map(",".join)
_dates = _date_texts()
# Values of the right kind for each parameter (still often out of range or unknown).
TYPED: dict[str, st.SearchStrategy[str]] = {
    **dict.fromkeys(sorted(CATALOG_PARAMS), _words),
    **dict.fromkeys(
        [
            "start",
            "end",
            "date__gte",
            "date__lte",
            "date__gt",
            "date__lt",
            "net__gte",
            "net__lte",
            "net__gt",
            "net__lt",
            "last_updated__gte",
            "last_updated__lte",
        ],
        _dates,
    ),
    "year": st.integers(1890, 2210).map(str),
    "month": st.integers(-1, 13).map(str),
    "day": st.integers(-1, 32).map(str),
    **dict.fromkeys(["id", "spacestation__ids", "expedition__ids"], _ints),
    "alarm": st.lists(st.integers(0, 10100).map(str), max_size=4).map(",".join),
    "webcast": st.sampled_from(["1", "0", "true", "no", "2", ""]),
    "vague": st.sampled_from(["mark", "hide", "HIDE", "x", ""]),
    **dict.fromkeys(["location", "search", "slug", "launch__ids", "video_url"], _values),
    **dict.fromkeys(["format", "mode", "limit", "offset", "ordering"], VALUES),
    "include": st.sampled_from(["events", "launches", "events,launches", "all", "rockets", ""]),
    **dict.fromkeys(
        [
            "rocket",
            "exclude_rocket",
            "rocket__configuration__name",
            "rocket__configuration__full_name",
            "orbit",
            "exclude_orbit",
            "mission__orbit__name",
            "mission_type",
        ],
        st.sampled_from(["falcon-9", "Falcon", "leo", "Low Earth Orbit", "starship", "x", ""]),
    ),
    "exclude_mission_type": st.sampled_from(["communications", "Test Flight", "nope"]),
    **dict.fromkeys(
        ["status", "exclude_status", "status__ids"],
        st.sampled_from(["go", "TBD", "3", "9", "hold", "?"]),
    ),
    **dict.fromkeys(["pad", "exclude_pad"], _values),
}
assert set(TYPED) == set(KNOWN)
TYPED_PAIR = st.sampled_from(sorted(TYPED)).flatmap(lambda n: st.tuples(st.just(n), TYPED[n]))
PAIRS = st.lists(st.one_of(TYPED_PAIR, TYPED_PAIR, st.tuples(NAMES, VALUES)), max_size=5)


def encode_query(pairs: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{quote(n, safe='')}={quote(v, safe=',:')}" for n, v in pairs)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    """One app for the module, serving the packaged sample offline (reads change nothing)."""
    data_dir = tmp_path_factory.mktemp("fuzz") / "var"
    return create_app(Settings(data_dir=data_dir, offline=True), start_sync=False).test_client()


_parsed: set[str] = set()  # ETags of bodies already proven to parse


def check_answer(client: FlaskClient, url: str) -> int:
    """GET `url` and check the properties every answer must have; return the status."""
    response = client.get(url)
    status, body = response.status_code, response.data
    assert status < 500, (url, body[:300])
    if 400 <= status < 500:  # 400, 404, and 414 for a query string past the limit
        assert response.mimetype == "text/plain", (url, body[:300])
        assert body.startswith(f"{status} ".encode()), (url, body)
        assert body.endswith(b"\n") and body.count(b"\n") == 1 and b"\r" not in body, (url, body)
        body.decode("utf-8")
    elif status == 200:
        etag = response.headers["ETag"]
        if etag not in _parsed:
            if response.mimetype == "application/json" and url.startswith("/changes"):
                document = json.loads(body)
                assert document["version"] == "https://jsonfeed.org/version/1.1"
            elif response.mimetype == "application/json":
                document = json.loads(body)
                listed = document.get("events", []) + document.get("launches", [])
                assert document["count"] == len(listed)
            elif response.mimetype == "application/atom+xml":
                parsed = feedparser.parse(body)
                assert not parsed.bozo, (url, parsed.get("bozo_exception"))
            else:
                assert response.mimetype == "text/calendar", url
                Calendar.from_ical(body)
                assert body.endswith(b"\r\n") and b"\n" not in body.replace(b"\r\n", b"")
            _parsed.add(etag)
    else:
        assert status == 308, (url, status)  # '//' in a path: redirect to the merged path
    return status


FUZZED_ROUTES = ["/events.ics", "/events.json", "/changes.atom", "/changes.json"]


@settings(FUZZ, max_examples=1500)
@given(route=st.sampled_from(FUZZED_ROUTES), pairs=PAIRS)
@example(route="/events.ics", pairs=[("start", "1957-10-04"), ("alarm", "0,10080")])
@example(route="/events.json", pairs=[("program__ids", "1"), ("mode", "detailed")])
@example(route="/events.ics", pairs=[("end", "9999-12-31"), ("date__gt", "9999-12-31")])
def test_random_query_strings_never_fail_the_server(client, route, pairs):
    event(f"status {check_answer(client, f'{route}?{encode_query(pairs)}')}")


@settings(FUZZ, max_examples=600)
@given(pairs=PAIRS, route_include=st.sampled_from(["event", "launch", "both"]))
@example(pairs=[("include", "launches")], route_include="event")
@example(pairs=[("start", "2200-12-31T23:59:59-14:00")], route_include="event")
@example(pairs=[("id", "e1079d3a-c0a6-4b42-bc1d-92e48a5a78fc,1327")], route_include="both")
def test_readable_params_parse_back_to_the_same_query(pairs, route_include):
    """What the builder and widget links write (`to_params`) means what was asked."""
    catalog = _SAMPLE.catalog
    default = {"event": EVENTS_ONLY, "launch": LAUNCHES_ONLY, "both": EVERYTHING}[route_include]
    try:
        query = FeedQuery.from_args(pairs, catalog, default)
    except QueryError:
        return
    again = FeedQuery.from_string(query.query_string(catalog), catalog)
    assert again == query


_SAMPLE = load_sample()


RAW_QUERY = st.lists(
    st.one_of(
        st.sampled_from(
            ["&", "=", "&&", "==", "%", "%zz", "%ff", "%00", "%0A", "+", ";", "#", "?"]
        ),
        st.sampled_from(KNOWN),
        st.sampled_from(CATALOG_WORDS),
        st.text(st.sampled_from("abc019,-_.~:/!$'()*"), max_size=8),
    ),
    max_size=12,
).map("".join)


@settings(FUZZ, max_examples=400)
@given(route=st.sampled_from(FUZZED_ROUTES), raw=RAW_QUERY)
def test_raw_query_string_junk_never_fails_the_server(client, route, raw):
    event(f"status {check_answer(client, f'{route}?{raw}')}")


PATH_KEYS = st.one_of(
    st.sampled_from(CATALOG_WORDS),
    _words,
    st.sampled_from(["..", ".", "../events", "a/b", "/", "x.ics", ".ics", " ", "%", "%zz"]),
    st.text(max_size=30),
    st.text(st.sampled_from(NASTY_CHARS), min_size=1, max_size=30),
    st.integers(0, 10**40).map(str),
    st.integers(100, 3000).map(lambda n: "y" * n),
)


@settings(FUZZ, max_examples=600)
@given(
    kind=st.sampled_from(["programs", "agencies", "types"]),
    key=PATH_KEYS,
    safe=st.sampled_from(["", "/", "/%", "/.%"]),
    suffix=st.sampled_from([".ics", ".ics", ".ics", ".ICS", "", ".json", ".ics/"]),
    pairs=st.lists(st.one_of(TYPED_PAIR, st.tuples(NAMES, VALUES)), max_size=2),
)
@example(kind="programs", key="../../events", safe="/", suffix=".ics", pairs=[])
@example(kind="types", key="%2e%2e%2f", safe="%", suffix=".ics", pairs=[])
def test_random_paths_never_fail_the_server(client, kind, key, safe, suffix, pairs):
    query = f"?{encode_query(pairs)}" if pairs else ""
    event(f"status {check_answer(client, f'/{kind}/{quote(key, safe=safe)}{suffix}{query}')}")


# =========================================================================== 2. LL2 events


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, picked in proportion to its weight (st.one_of picks evenly)."""
    table = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(table) - 1).flatmap(lambda i: table[i])


BASE = event_by_name("Booster 19 Rollout")  # 1327, timed to the minute, with every list
SEED_TEXTS = [
    "",
    " ",
    "\x00",
    "\r\n",
    "\r",
    "line one\nline two\r\nthree\rfour",
    "\t",
    "\x0b\x0c\x1c\x1d\x1e\x1f\x7f",
    "\u0085\u2028\u2029",
    "😀🚀👩‍🚀 \U0001f9d1\u200d\U0001f680",
    "\u202e\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 \u200f",
    "<script>alert('x')</script>",
    "</script><img src=x onerror=alert(1)>",
    "a,b;c\\d:e\"f'g",
    "\\n\\,\\;\\\\",
    "BEGIN:VEVENT\r\nUID:evil@x\r\nEND:VEVENT",
    "END:VCALENDAR",
    "\ufeff\u200b\u200d",
    "é" * 80,
    "\U0001d518\U0001d52b\U0001d526 \U0001d565\U0001d556\U0001d569",  # math alphanumerics
    "null",
    "NaN",
]
_short_text = st.one_of(
    st.sampled_from(SEED_TEXTS),
    st.text(max_size=40),
    st.text(st.sampled_from(NASTY_CHARS + "abc XYZ"), max_size=60),
)
TEXT = weighted(
    (3, _short_text),
    (
        1,
        st.builds(  # long: 1,000 to 5,000 characters of a nasty mix
            lambda parts, n: ("".join(parts) * 5000)[:n],
            st.lists(st.sampled_from([*SEED_TEXTS, "x", "ab ", "Ä"]), min_size=1, max_size=4),
            st.integers(1000, 5000),
        ),
    ),
)
# Something that has visible text once controls and whitespace are gone.
VISIBLE = re.compile(r"[^\x00-\x20\x7f\s]")
JUNK = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(),
        _short_text,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(["id", "name", "url", "image_url", "abbrev", "slug", "live", "x"]),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=8,
)
IDS = st.one_of(
    st.integers(1, 10**12),
    st.sampled_from([0, -1, 2**63, "1327", " 42 ", "٣", "x", 1.0, True]),
)
ZONES = st.sampled_from(
    [UTC, None, timezone(timedelta(hours=14)), timezone(-timedelta(hours=12, minutes=30))]
)
_moments = st.datetimes(
    min_value=datetime(1957, 1, 1), max_value=datetime(2099, 12, 31, 23, 59, 59), timezones=ZONES
)
DATES = st.one_of(
    _moments.map(lambda d: d.isoformat()),
    _moments.map(lambda d: d.isoformat().replace("+00:00", "Z")),
    _moments.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
    _moments.map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),
    _moments.map(lambda d: d.date().isoformat()),
    _moments.map(lambda d: f"  {d.strftime('%Y%m%dT%H%M%S')}z "),
    st.sampled_from(["2026-02-30T00:00:00Z", "2026-13-01", "", "0000-00-00", "yesterday"]),
    JUNK,
)
PRECISIONS = weighted(
    (6, st.builds(lambda i: {"id": i, "name": "Day"}, st.integers(0, 16))),
    (1, st.builds(lambda i: {"id": i}, st.one_of(st.integers(17, 20), st.none()))),
    (1, st.fixed_dictionaries({"id": st.sampled_from(["5", " 1 ", "x", 5.5, True, [], {}, -1])})),
    (1, JUNK),
)
_amount = st.one_of(
    st.integers(0, 10**30).map(str),
    st.integers(10**300, 10**301).map(str),
    st.decimals(0, 10**6, places=3, allow_nan=False).map(str),
)
ISO_DURATIONS = st.builds(
    lambda sign, y, mo, w, d, h, mi, s: (
        f"{sign}P{y}{mo}{w}{d}" + (f"T{h}{mi}{s}" if h + mi + s else "")
    ),
    st.sampled_from(["", "", "-", "+"]),
    *[
        st.one_of(st.just(""), _amount.map(lambda n, u=unit: f"{n}{u}"))
        for unit in ("Y", "M", "W", "D", "H", "M", "S")
    ],
)
DURATIONS = st.one_of(
    ISO_DURATIONS,
    st.sampled_from(["PT2H38M51S", "PT0S", "-PT1H", "P", "PT", "P1DT", "PT1.5H", "P61D", "P60D"]),
    st.builds(
        lambda neg, d, h, m, s: f"{neg}{d}{h}:{m:02}:{s:02}",
        st.sampled_from(["", "-"]),
        st.sampled_from(["", "1 ", "70 "]),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
    ),
    st.integers(-(10**6), 10**6),
    JUNK,
)
URL_START = st.sampled_from(["https://", "http://", "HTTPS://", " https://", "ftp://", "", "//"])
_url_tail = _short_text
URLS = st.one_of(
    st.sampled_from(["https://www.youtube.com/watch?v=ugK-wmFT9OE", "http://x.test/a b?c=d,e;f"]),
    st.builds(lambda a, b: a + b, URL_START, _url_tail),
    JUNK,
)


def _items(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """An LL2 list of objects with these fields (each maybe missing), junk items mixed in."""
    item = st.fixed_dictionaries({}, optional=fields)
    return st.one_of(st.lists(st.one_of(item, item, JUNK), max_size=5), JUNK)


FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "id": weighted((3, st.integers(1, 10**12)), (1, IDS), (1, JUNK)),
    "name": TEXT,
    "slug": st.one_of(TEXT, JUNK),
    "date": DATES,
    "date_precision": PRECISIONS,
    "duration": DURATIONS,
    "last_updated": DATES,
    "type": st.one_of(st.fixed_dictionaries({"id": IDS, "name": TEXT}), JUNK),
    "description": st.one_of(TEXT, JUNK),
    "location": st.one_of(TEXT, JUNK),
    "webcast_live": JUNK,
    "image": st.one_of(st.fixed_dictionaries({"image_url": URLS}), URLS),
    "feature_image": URLS,
    "video_url": URLS,
    "news_url": URLS,
    "vid_urls": _items(
        url=URLS,
        title=TEXT,
        publisher=TEXT,
        priority=st.one_of(IDS, JUNK),
        type=st.one_of(
            st.fixed_dictionaries(
                {"name": st.sampled_from(["Official Webcast", "Unofficial Webcast", "", "x"])}
            ),
            JUNK,
        ),
        live=JUNK,
    ),
    "info_urls": st.one_of(_items(url=URLS, title=TEXT), st.lists(URLS, max_size=3)),
    "agencies": _items(id=IDS, name=TEXT, abbrev=st.one_of(TEXT, JUNK)),
    "program": _items(id=IDS, name=TEXT, slug=st.one_of(TEXT, JUNK)),
    "launches": _items(id=st.one_of(IDS, st.uuids().map(str)), name=TEXT, slug=TEXT, net=DATES),
    "expeditions": _items(id=IDS, name=TEXT),
    "spacestations": _items(id=IDS, name=TEXT),
}


@st.composite
def ll2_events(draw: st.DrawFn, event_id: int | None = None) -> dict[str, Any]:
    """The real fixture event with a few fields replaced, removed or drifted."""
    event = copy.deepcopy(BASE)
    if draw(st.booleans()):  # a few fields changed
        names = draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=4, unique=True))
    else:  # about half of them
        names = [name for name in sorted(FIELDS) if draw(st.booleans())]
    if draw(st.booleans()):  # the precision decides the shape of the event: vary it often
        names.append("date_precision")
    for name in dict.fromkeys(names):
        if draw(st.integers(0, 5)) == 0:
            event.pop(name, None)
        else:
            event[name] = draw(FIELDS[name])
    if event_id is not None:
        event["id"] = event_id
    return event


def _load_lint() -> ModuleType | None:
    """The harness's strict lint, in this process, when `make icscheck` installed it."""
    if icscheck_missing() is not None:
        return None
    spec = importlib.util.spec_from_file_location("icalfeed_fuzz_ics_lint", LINT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


ics_lint = _load_lint()
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")  # HTAB is legal in TEXT


def check_ics(body: bytes) -> Calendar:
    """The byte rules, a real parser, and (when installed) the strict lint."""
    assert body.endswith(b"\r\n")
    lines = body.split(b"\r\n")[:-1]
    for line in lines:
        assert len(line) <= 75, line
        assert not CONTROL_BYTES.search(line), line
    assert b"\r" not in body.replace(b"\r\n", b"") and b"\n" not in body.replace(b"\r\n", b"")
    body.decode("utf-8")
    calendar = Calendar.from_ical(body)
    for vevent in calendar.walk("VEVENT"):
        if "DTEND" in vevent:
            assert "DURATION" not in vevent
            assert vevent["DTEND"].dt > vevent["DTSTART"].dt, vevent.to_ical()
    if ics_lint is not None:
        errors = [f.render() for f in ics_lint.Linter(body).run() if f.severity == "E"]
        assert errors == [], errors
    elif REQUIRE_ICSCHECK:
        pytest.fail(f"the strict lint is required here: {icscheck_missing()}")
    return calendar


def render_all(snapshot: Snapshot, include: str = "events") -> tuple[bytes, bytes]:
    """Every item of the kinds `include` names, as ICS and as JSON."""
    query = FeedQuery.from_string(f"{ALL}&include={include}", snapshot.catalog)
    ics = render_feed("ics", snapshot, query, DAY, 2000).body
    js = render_feed("json", snapshot, query, DAY, 2000).body
    return ics, js


def from_disk(snapshot: Snapshot) -> Snapshot:
    """The snapshot as a restart reads it back from disk: the same data version."""
    disk = json.dumps(snapshot.to_json(), ensure_ascii=False, separators=(",", ":"))
    reloaded = Snapshot.from_json(json.loads(disk.encode()), "snapshot")
    assert reloaded.version == snapshot.version
    return reloaded


def check_ends_after_starts(items: list[dict[str, Any]]) -> None:
    for item in items:
        if item["end"] is not None:
            assert item["end"] > item["start"]


def lint_files(paths: list[Path]) -> None:
    """The strict lint as CI runs it: its own interpreter, one file at a time."""
    for path in paths:
        result = subprocess.run(
            [str(LINT_PYTHON), str(LINT), str(path)], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0 and result.stdout.startswith(("OK", "WARN")), (
            path.name,
            result.stdout[-2000:],
        )


def test_random_ll2_events_parse_merge_and_render(tmp_path):
    kept: list[tuple[int, bytes]] = []  # (events, body) for the out-of-process lint
    base = parse_events([BASE])
    base_snapshot, _ = Snapshot({}).merge(base.items, NOW)

    @settings(FUZZ, max_examples=400)
    @given(events=st.lists(ll2_events(), min_size=1, max_size=3))
    def check(events: list[dict[str, Any]]) -> None:
        page = parse_events(events)
        assert len(page.items) + page.skipped == len(events)
        event(f"{len(page.items)} of {len(events)} events usable")
        snapshot, counts = Snapshot({}).merge(page.items, NOW)
        assert counts.added == len(snapshot.entries)
        ics, js = render_all(snapshot)

        calendar = check_ics(ics)
        uids = [str(v["UID"]) for v in calendar.walk("VEVENT")]
        assert sorted(uids) == sorted(
            f"ll2-{i.replace(':', '-')}@icalfeed" for i in snapshot.entries
        )

        document = json.loads(js)
        names = {e["id"]: e["name"] for e in document["events"]}
        assert names == {entry.item.id: entry.item.name for entry in snapshot.entries.values()}
        check_ends_after_starts(document["events"])

        # What a restart reads back from disk renders the same bytes.
        assert render_all(from_disk(snapshot)) == (ics, js)

        # Merged over the real event (an update of it, for the same id), still valid.
        updated, _ = base_snapshot.merge(page.items, NOW + timedelta(hours=1))
        check_ics(render_all(updated)[0])

        if snapshot.entries:
            kept.append((len(snapshot.entries), ics))

    check()
    assert kept, "no example produced a calendar with events"
    # Last: the richest and the longest bodies, linted exactly as the validator harness does
    # (or a skip that says why).
    need_icscheck()
    chosen = sorted(kept, key=lambda k: (k[0], len(k[1])))[-4:]
    chosen += sorted(kept, key=lambda k: len(k[1]))[-4:]
    paths = []
    for number, (_, body) in enumerate(chosen):
        path = tmp_path / f"fuzz{number}.ics"
        path.write_bytes(body)
        paths.append(path)
    lint_files(paths)


@settings(FUZZ, max_examples=100)
@given(events=st.lists(ll2_events(event_id=BASE["id"]), min_size=1, max_size=4))
def test_successive_versions_of_one_event_keep_the_feed_valid(events):
    """The same event, re-read several times with junk: merges never raise, SEQUENCE never
    goes down, and the older copy of an event never overwrites a newer one."""
    snapshot = Snapshot({})
    sequence = 0
    for number, raw in enumerate(events):
        page = parse_events([raw])
        before = snapshot.entries.get(BASE["id"])
        snapshot, _ = snapshot.merge(page.items, NOW + timedelta(hours=number))
        entry = snapshot.entries.get(BASE["id"])
        if entry is None:
            continue
        assert entry.sequence >= sequence
        sequence = entry.sequence
        if before is not None and page.items:
            new = page.items[0][0]
            if new.last_updated and before.item.last_updated:
                newest = max(new.last_updated, before.item.last_updated)
                assert entry.item.last_updated == newest
    check_ics(render_all(snapshot)[0])


LAUNCH_BASE = json.loads(
    (
        Path(__file__).parent
        / "data"
        / "launches"
        / "ll2-2.2.0_ll_launch-upcoming_mode-detailed_limit10__AArlert-world_tunnel.json"
    ).read_text()
)["results"][0]
COORDINATES = st.one_of(
    st.floats(-200, 200, allow_nan=False).map(str),
    st.floats(-90, 90, allow_nan=False),
    st.sampled_from(["0", "0.0", 0, "nan", "inf", "-1e309"]),
    JUNK,
)
LAUNCH_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "id": weighted(
        (4, st.uuids().map(str)), (1, st.uuids().map(lambda u: str(u).upper())), (1, JUNK)
    ),
    "name": TEXT,
    "slug": st.one_of(TEXT, JUNK),
    "net": DATES,
    "net_precision": PRECISIONS,
    "window_start": DATES,
    "window_end": DATES,
    "last_updated": DATES,
    "status": st.one_of(
        st.fixed_dictionaries(
            {"id": st.one_of(st.integers(0, 12), JUNK)},
            optional={"name": TEXT, "abbrev": st.one_of(TEXT, JUNK)},
        ),
        JUNK,
    ),
    "probability": st.one_of(st.integers(-5, 150), JUNK),
    "holdreason": st.one_of(TEXT, JUNK),
    "failreason": st.one_of(TEXT, JUNK),
    "launch_service_provider": st.one_of(
        st.fixed_dictionaries({}, optional={"id": IDS, "name": TEXT, "abbrev": TEXT}), JUNK
    ),
    "rocket": st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "configuration": st.fixed_dictionaries(
                    {}, optional={"id": IDS, "name": TEXT, "family": TEXT, "full_name": TEXT}
                )
            },
        ),
        JUNK,
    ),
    "mission": st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "name": TEXT,
                "description": TEXT,
                "type": st.one_of(TEXT, JUNK),
                "orbit": st.one_of(
                    st.fixed_dictionaries({}, optional={"name": TEXT, "abbrev": TEXT}), JUNK
                ),
            },
        ),
        JUNK,
    ),
    "pad": st.one_of(
        st.fixed_dictionaries(
            {"name": TEXT},
            optional={
                "id": IDS,
                "latitude": COORDINATES,
                "longitude": COORDINATES,
                "map_url": URLS,
                "location": st.one_of(st.fixed_dictionaries({"name": TEXT}), JUNK),
            },
        ),
        TEXT,
        JUNK,
    ),
    "vidURLs": FIELDS["vid_urls"],
    "infoURLs": FIELDS["info_urls"],
    "program": FIELDS["program"],
    "image": st.one_of(URLS, st.fixed_dictionaries({"image_url": URLS})),
    "webcast_live": JUNK,
}


@st.composite
def ll2_launches(draw: st.DrawFn) -> dict[str, Any]:
    """The real fixture launch (Falcon 9, window, pad with coordinates) with fields replaced,
    removed or drifted; the NET, its precision and the window change most often."""
    launch = copy.deepcopy(LAUNCH_BASE)
    names = draw(st.lists(st.sampled_from(sorted(LAUNCH_FIELDS)), max_size=6, unique=True))
    if draw(st.booleans()):
        names += ["net", "net_precision", "window_start", "window_end"]
    for name in dict.fromkeys(names):
        if draw(st.integers(0, 5)) == 0:
            launch.pop(name, None)
        else:
            launch[name] = draw(LAUNCH_FIELDS[name])
    return launch


@settings(FUZZ, max_examples=300)
@given(launches=st.lists(ll2_launches(), min_size=1, max_size=3))
def test_random_ll2_launches_parse_merge_and_render(launches):
    """Any launch LL2 could send: parsed or skipped (never an exception), and whatever is kept
    renders a valid calendar and JSON that reload from disk byte for byte."""
    page = parse_launches(launches)
    assert len(page.items) + page.skipped == len(launches)
    event(f"{len(page.items)} of {len(launches)} launches usable")
    snapshot, _ = Snapshot({}).merge(page.items, NOW)
    ics, js = render_all(snapshot, "events,launches")
    calendar = check_ics(ics)
    assert sorted(str(v["UID"]) for v in calendar.walk("VEVENT")) == sorted(
        f"ll2-launch-{entry.item.id}@icalfeed" for entry in snapshot.entries.values()
    )
    for vevent in calendar.walk("VEVENT"):
        if "GEO" in vevent:
            geo = vevent["GEO"]
            assert -90 <= geo.latitude <= 90 and -180 <= geo.longitude <= 180
            assert (geo.latitude, geo.longitude) != (0, 0)
    document = json.loads(js)
    assert {x["id"] for x in document["launches"]} == {
        entry.item.id for entry in snapshot.entries.values()
    }
    check_ends_after_starts(document["launches"])
    assert render_all(from_disk(snapshot), "events,launches") == (ics, js)


@settings(FUZZ, max_examples=100)
@given(launches=st.lists(ll2_launches(), min_size=1, max_size=4))
@example(  # once DTEND == DTSTART: a window one microsecond long, written in whole seconds
    launches=[
        {
            **LAUNCH_BASE,
            "net": "2000-01-01T00:00:00+00:00",
            "window_start": "2000-01-01T00:00:00+00:00",
            "window_end": "2000-01-01T00:00:00.000001+00:00",
        }
    ]
)
def test_successive_versions_of_one_launch_never_lower_its_sequence(launches):
    """One launch re-read with drifting NETs, windows and junk: SEQUENCE never goes down,
    rises whenever its start moves, and the calendar stays valid."""
    key = f"launch:{LAUNCH_BASE['id']}"
    snapshot, _ = Snapshot({}).merge(parse_launches([LAUNCH_BASE]).items, NOW)
    for number, raw in enumerate(launches):
        raw["id"] = LAUNCH_BASE["id"]
        before = snapshot.entries[key]
        snapshot, _ = snapshot.merge(parse_launches([raw]).items, NOW + timedelta(hours=number))
        after = snapshot.entries[key]
        assert after.sequence >= before.sequence
        if launch_span(after.item) != launch_span(before.item):  # DTSTART/DTEND moved
            assert after.sequence > before.sequence
    check_ics(render_all(snapshot, "launches")[0])


# =========================================================================== regressions
# Each once broke icalfeed (found by the properties above); now pinned in a few lines.


def _render_one(**changes: Any) -> bytes:
    raw = copy.deepcopy(BASE)
    raw.update(changes)
    page = parse_events([raw])
    snapshot, _ = Snapshot({}).merge(page.items, NOW)
    return render_all(snapshot)[0]


@pytest.mark.parametrize("query", ["year=²", "alarm=¹⁰", "id=٣"])
def test_non_ascii_digits_are_a_400(client, query):
    """'²' passes str.isdigit() but int() refuses it: once a 500."""
    assert check_answer(client, f"/events.ics?{query}") == 400


def test_dates_outside_1900_2200_are_a_400(client):
    """date__lt=0001-01-01 minus 1 µs overflowed: once a 500."""
    assert check_answer(client, "/events.ics?date__lt=0001-01-01") == 400


@pytest.mark.parametrize("url", ["/events.ics?program=a%0Ab", "/agencies/x%0Dy.ics"])
def test_names_with_line_breaks_are_echoed_on_one_line(client, url):
    assert check_answer(client, url) in (400, 404)


@pytest.mark.parametrize(
    ("changes", "kept"),
    [
        ({"duration": "P" + "9" * 400 + "D"}, 2),  # absurd duration: dropped, event kept
        ({"date_precision": json.loads('{"id": 1e400}')}, 2),  # infinite id: unknown precision
        ({"date": "0001-01-01T00:00:00+05:00"}, 1),  # leaves the calendar: event skipped
    ],
    ids=["duration", "precision", "date"],
)
def test_overflowing_values_never_abort_the_page(changes, kept):
    raw = copy.deepcopy(BASE)
    raw.update(changes)
    page = parse_events([raw, event_by_name("Venus Flyby")])
    assert len(page.items) == kept and page.skipped == 2 - kept


def test_a_lone_surrogate_is_replaced():
    """A cut-off emoji (a lone surrogate) becomes one "?", where it was: not dropped, which
    would join the words around it, and nothing else of the text changes."""
    body = _render_one(
        description=json.loads('"Launch \\ud83d at dawn"'), name=json.loads('"Go\\udc00!"')
    )
    (vevent,) = check_ics(body).walk("VEVENT")
    assert "\n\nLaunch ? at dawn\n" in str(vevent["DESCRIPTION"])
    assert str(vevent["SUMMARY"]) == "Go?!"
    ((item, record),) = parse_events([{**BASE, "name": json.loads('"\\ud83dX"')}]).items
    assert item.name == record["name"] == "?X"  # the stored record too (written to disk)


@pytest.mark.parametrize(
    "changes",
    [
        {"vid_urls": [{"url": "https://x.test/\r\nBEGIN:VEVENT", "live": True}]},
        {"image": {"image_url": "https://x.test/a\x00b.jpg"}},
    ],
    ids=["crlf-in-video-url", "nul-in-image-url"],
)
def test_urls_with_control_characters_are_dropped(changes):
    body = _render_one(**changes)
    check_ics(body)
    assert b"x.test" not in body


def test_a_name_of_only_control_characters_is_not_an_event():
    page = parse_events([{**copy.deepcopy(BASE), "name": "\x01\x02"}])
    assert page.items == () and page.skipped == 1 and page.unparsed_keys == {f"event:{BASE['id']}"}


@pytest.mark.parametrize("field", ["vid_urls", "info_urls"])
def test_link_lists_of_the_wrong_type_are_ignored(field):
    page = parse_events([{**copy.deepcopy(BASE), field: 7}])
    assert page.skipped == 0 and len(page.items) == 1
