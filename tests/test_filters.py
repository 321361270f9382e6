"""The query language: every parameter, LL2 aliases, normalisation, specific errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from icalfeed.base.errors import QueryError
from icalfeed.data.store import load_sample
from icalfeed.feeds.asof import moment
from icalfeed.feeds.query import FeedQuery, parse_moment
from icalfeed.feeds.select import feed_day, select

SAMPLE = load_sample()
CATALOG = SAMPLE.catalog
NOW = datetime(2026, 11, 25, tzinfo=UTC)


def q(text: str) -> FeedQuery:
    return FeedQuery.from_string(text, CATALOG)


def ids(text: str, limit: int = 5000) -> set[int]:
    return {e.item.id for e in select(SAMPLE, q(text), NOW, limit).entries}


def everything() -> list:
    """Every event entry of the sample (the launches in it are tested in test_launch_feeds)."""
    return [e for e in SAMPLE.entries.values() if e.kind == "event"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("program=spacex-starship", "program=SpaceX Starship"),
        ("program=spacex-starship", "program=1"),
        ("program=spacex-starship", "program__ids=1"),
        ("program=SPACEX STARSHIP", "program=spacex starship"),
        ("type=docking,eva", "type=eva&type=docking"),
        ("type=docking,eva", "type=Docking,EVA"),
        ("type=eva", "type=spacewalk"),
        ("type=docking", "type=dockings"),
        ("type=docking&agency=nasa", "agency=NASA&type=2"),
        ("agency=spacex", "agency=SpX"),
        ("agency=spacex", "agency__ids=121"),
        ("program=iss", "program=International Space Station"),
        ("start=2020-01-01", "date__gte=2020-01-01"),
        ("end=2020-01-01", "date__lte=2020-01-01"),
        ("alarm=30,10", "alarm=10,30,10"),
        ("vague=mark", ""),
        ("search=Flyby&format=json&limit=10&mode=detailed", "search=flyby"),
        ("location=Starbase", "location=starbase"),
    ],
)
def test_equivalent_spellings_make_the_same_query(a, b):
    assert q(a) == q(b)
    assert q(a).canonical() == q(b).canonical()
    assert hash(q(a)) == hash(q(b))


def test_type_filter_keeps_only_that_type():
    chosen = ids("type=docking&start=1957-01-01")
    expected = {e.item.id for e in everything() if e.item.type and e.item.type.id == 2}
    assert chosen == expected and len(chosen) > 20


def test_or_inside_and_across():
    both = ids("type=docking,eva&start=1957-01-01")
    assert both == ids("type=docking&start=1957-01-01") | ids("type=eva&start=1957-01-01")
    narrowed = ids("type=docking,eva&program=iss&start=1957-01-01")
    assert narrowed and narrowed < both


def test_excludes():
    starship = ids("program=spacex-starship&start=1957-01-01")
    no_static = ids("program=spacex-starship&exclude_type=static-fire&start=1957-01-01")
    static = ids("program=spacex-starship&type=static-fire&start=1957-01-01")
    assert static and no_static == starship - static
    assert not ids("exclude_program=spacex-starship&program=spacex-starship&start=1957-01-01")
    assert 1327 not in ids("exclude_agency=spacex&start=1957-01-01")


def test_location_and_search_are_folded_substrings():
    assert 1327 in ids("location=starbase texas&start=2026-01-01")
    assert ids("search=JUICE&start=1957-01-01") == {
        e.item.id for e in everything() if "juice" in e.item.name.lower()
    }
    assert ids("search=venus flyby&start=1957-01-01") == {384}


def test_webcast_and_video_url():
    with_video = ids("webcast=1&start=1957-01-01")
    without = ids("webcast=0&start=1957-01-01")
    assert with_video and without and not with_video & without
    assert with_video | without == ids("start=1957-01-01")
    url = SAMPLE.entries["event:1327"].item.videos[0].url
    assert ids(f"video_url={url}&start=1957-01-01") == {1327}


def test_ll2_id_slug_station_expedition_launch_filters():
    assert ids("id=1327,384") == {1327, 384}
    assert ids("slug=booster-19-rollout-to-masseys") == {1327}
    station = next(e.item for e in everything() if e.item.spacestations)
    sid = station.spacestations[0].id
    assert station.id in ids(f"spacestation__ids={sid}&start=1957-01-01")
    expedition = next(e.item for e in everything() if e.item.expeditions)
    assert expedition.id in ids(f"expedition__ids={expedition.expeditions[0].id}&start=1957-01-01")
    launch = SAMPLE.entries["event:1327"].item.launches[0].id
    assert ids(f"launch__ids={launch.upper()}&start=1957-01-01") == {1327}


def test_date_bounds_year_month_day_and_updates():
    assert ids("year=2020") == {e.item.id for e in everything() if e.item.start.year == 2020}
    assert ids("year=2026&month=2&day=1") == {1327}
    feb = ids("start=2026-02-01&end=2026-02-01")
    assert 1327 in feb  # a date alone as the end means the whole day
    assert 1327 not in ids("date__gt=2026-02-01T06:00:00Z&end=2026-02-02")
    assert 1327 in ids("date__gte=2026-02-01T06:00:00Z&end=2026-02-02")
    assert 1327 not in ids("start=2026-01-01&date__lt=2026-02-01T06:00:00Z")
    recent = ids("last_updated__gte=2026-09-01&start=1957-01-01")
    assert recent and all(
        SAMPLE.entries[f"event:{i}"].item.last_updated >= datetime(2026, 9, 1, tzinfo=UTC)
        for i in recent
    )
    assert 1327 in ids("last_updated__lte=2026-02-01&start=2026-01-01")


def test_default_window_is_31_days_back():
    low, high = q("").window(NOW)
    assert low == datetime(2026, 10, 25, tzinfo=UTC) and high is None
    assert q("year=2020").window(NOW)[0] is None
    # The packaged sample is selected as of its own capture, whatever the clock says.
    sample_low = q("").window(moment(SAMPLE, "event", NOW))[0]
    assert sample_low == datetime(2026, 8, 26, 1, 34, 56, tzinfo=UTC)
    assert all(SAMPLE.entries[f"event:{i}"].item.start >= sample_low for i in ids(""))
    live = SAMPLE.restamped(source="snapshot")
    shown = {e.item.id for e in select(live, q(""), NOW, 5000).entries if e.kind == "event"}
    assert shown and all(live.entries[f"event:{i}"].item.start >= low for i in shown)


def test_vague_hide_drops_week_and_coarser():
    hidden = ids("vague=hide&start=1957-01-01")
    assert hidden and all(not SAMPLE.entries[f"event:{i}"].item.precision.is_vague for i in hidden)
    assert 365 in ids("start=2026-01-01") and 365 not in ids("start=2026-01-01&vague=hide")


def test_cap_keeps_the_events_nearest_today():
    selection = select(SAMPLE, q("start=1957-01-01"), NOW, 10)
    assert len(selection.entries) == 10 and selection.dropped == selection.total - 10
    kept = [e.item.start for e in selection.entries]
    assert kept == sorted(kept)
    farthest_kept = max(abs(s - NOW) for s in kept)
    others = [e for e in everything() if e not in selection.entries]
    assert all(abs(e.item.start - NOW) >= farthest_kept for e in others)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("agncy=spacex", "unknown parameter 'agncy' (did you mean 'agency'?)"),
        ("progam=artemis", "unknown parameter 'progam' (did you mean 'program'?)"),
        ("colour=red", "unknown parameter 'colour'"),
        ("program=startship", "unknown program 'startship' (did you mean 'spacex-starship'?)"),
        ("type=dokcing", "unknown type 'dokcing' (did you mean 'docking'?)"),
        ("agency=spacx", "unknown agency 'spacx' (did you mean 'spacex'?)"),
        ("alarm=20000", "alarm must be 1–3 values between 0 and 10080 minutes"),  # noqa: RUF001
        ("alarm=1,2,3,4", "alarm must be 1–3 values between 0 and 10080 minutes"),  # noqa: RUF001
        ("alarm=-5", "alarm must be 1–3 values between 0 and 10080 minutes"),  # noqa: RUF001
        ("vague=maybe", "vague must be one of mark, hide, got 'maybe'"),
        ("webcast=perhaps", "webcast must be 1 or 0, got 'perhaps'"),
        ("start=yesterday", "start must be an ISO date or datetime"),
        ("start=2026-02-30", "start must be an ISO date or datetime"),
        ("start=2026-01-01,2026-02-01", "start takes one value, got 2"),
        ("year=20x6", "year takes whole numbers from 1900 to 2200, got '20x6'"),
        ("month=13", "month takes whole numbers from 1 to 12, got '13'"),
        ("id=abc", "id takes event ids (whole numbers) or launch ids (UUIDs)"),
        ("type=" + ",".join(["docking"] * 51), "too many values for 'type' (at most 50)"),
        ("search=" + "x" * 201, "a value of 'search' is longer than 200 chars"),
    ],
)
def test_errors_name_the_problem(text, message):
    with pytest.raises(QueryError) as caught:
        q(text)
    assert str(caught.value).startswith(message)


def test_error_echo_is_sanitised():
    with pytest.raises(QueryError) as caught:
        q("bad%0D%0AX-Injected:%20yes=1")
    assert "\n" not in str(caught.value) and "\r" not in str(caught.value)


def test_parse_moment_accepts_the_plus_that_became_a_space():
    assert parse_moment("2026-06-01T12:00:00 02:00") == datetime(2026, 6, 1, 10, tzinfo=UTC)
    assert parse_moment("2026-06-01T12:00:00Z") == datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert parse_moment("2026-06-01T12:00") == datetime(2026, 6, 1, 12, tzinfo=UTC)


def test_feed_day_rounds_down():
    assert feed_day(datetime(2026, 11, 25, 23, 59, tzinfo=UTC)) == NOW


@pytest.mark.parametrize(
    "query",
    [
        "start=2200-12-31T23:59:59-14:00",
        "net__gt=2200-12-31T23:59:59.999999Z",
        "date__lt=1900-01-01",
    ],
)
def test_bounds_beyond_the_years_a_url_can_carry_are_400(query):
    with pytest.raises(QueryError, match="must be an ISO date or datetime"):
        FeedQuery.from_string(query, load_sample().catalog)
