"""The documented rules of the core, one test each, at their boundaries (#35): what a query
may say and mean, which items it selects, what an item means, and how the calendar says it.

Each of these once let a hand-made bug through (a 0 % probability dropped, a 3-day window
believed, an inclusive bound made exclusive, a filter deleted, a prefix for a rocket, the
looser of two bounds, the documented maximum refused, a ``;`` in a calendar name, the
calendar's TTL removed, the default webcast priority changed): pure and fast, so
`make mutation` runs them against every mutant of these modules.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar
from ll2data import detailed_launch, event_by_name

from icalfeed.base.errors import QueryError
from icalfeed.data.snapshot import Entry, Move, Snapshot
from icalfeed.data.store import load_sample
from icalfeed.feeds import ics
from icalfeed.feeds.jsonfeed import launch_json
from icalfeed.feeds.meaning import (
    MAX_LAUNCH_WINDOW,
    Meaning,
    best_video_url,
    launch_window,
    page_path,
)
from icalfeed.feeds.query import MAX_ALARM_MINUTES, MAX_ALARMS, FeedQuery
from icalfeed.feeds.select import rocket_matches, select
from icalfeed.feeds.titles import CalendarMeta
from icalfeed.ll2.models import Launch, Precision, Video, parse_events, parse_launches

SAMPLE = load_sample()
CATALOG = SAMPLE.catalog
NOW = datetime(2026, 11, 25, tzinfo=UTC)
SEEN = datetime(2026, 7, 1, tzinfo=UTC)
STAMP = "%Y-%m-%dT%H:%M:%SZ"


def q(text: str) -> FeedQuery:
    return FeedQuery.from_string(text, CATALOG)


def chosen(text: str, snapshot: Snapshot = SAMPLE) -> set[Any]:
    query = FeedQuery.from_string(text, snapshot.catalog)
    return {e.item.id for e in select(snapshot, query, NOW, 5000).entries}


def launch_ids(text: str) -> set[str]:
    return {i for i in chosen(f"{text}&include=launches") if isinstance(i, str)}


def sample_launches(pick) -> set[str]:
    return {x.id for x in SAMPLE.launches if pick(x)}


# ------------------------------------------------------------------------ query bounds


def test_the_documented_alarm_maximum_is_accepted():
    assert q(f"alarm={MAX_ALARM_MINUTES}").alarms == (10080,)
    assert q("alarm=0").alarms == (0,)
    assert q("alarm=5,0,10080").alarms == (0, 5, 10080)
    assert MAX_ALARMS == 3 and MAX_ALARM_MINUTES == 10080  # README: up to 3, 0-10080
    for refused in ("alarm=10081", "alarm=1,2,3,4", "alarm=-1", "alarm=x", "alarm=1.5"):
        with pytest.raises(QueryError, match="alarm must be 1–3 values between 0 and 10080"):  # noqa: RUF001
            q(refused)


def test_end_is_inclusive_to_the_instant_and_a_date_means_the_whole_day():
    at = "2026-02-01T06:00:00Z"  # the Booster 19 rollout (1327), to the minute
    assert 1327 in chosen(f"start={at}&end={at}")
    assert 1327 not in chosen("start=2026-01-01&end=2026-02-01T05:59:59Z")
    assert 1327 in chosen("start=2026-01-01&end=2026-02-01")  # the whole day
    assert 1327 not in chosen("start=2026-01-01&end=2026-01-31")
    query = q("end=2026-02-01")
    assert query.before == datetime(2026, 2, 1, 23, 59, 59, 999999, tzinfo=UTC)
    assert q("start=2026-02-01").after == datetime(2026, 2, 1, tzinfo=UTC)


def test_the_strict_bounds_are_exclusive_by_one_microsecond():
    at = datetime(2026, 2, 1, 6, tzinfo=UTC)
    assert q("date__gt=2026-02-01T06:00:00Z").after == at + timedelta(microseconds=1)
    assert q("date__lt=2026-02-01T06:00:00Z").before == at - timedelta(microseconds=1)
    assert 1327 not in chosen("date__gt=2026-02-01T06:00:00Z&end=2026-03-01")
    assert 1327 not in chosen("start=2026-01-01&date__lt=2026-02-01T06:00:00Z")
    assert 1327 in chosen("start=2026-01-01&date__lt=2026-02-01T06:00:01Z")


@pytest.mark.parametrize(
    ("text", "after", "before"),
    [
        # The stricter of the two bounds wins, in either order, whichever is given first.
        ("end=2026-02-02&date__lt=2026-02-01T06:00:00Z", None, "2026-02-01T05:59:59.999999"),
        ("date__lt=2026-02-01T06:00:00Z&end=2026-02-02", None, "2026-02-01T05:59:59.999999"),
        ("end=2026-01-15&date__lt=2026-02-01", None, "2026-01-15T23:59:59.999999"),
        ("start=2026-01-01&date__gt=2026-02-01T06:00:00Z", "2026-02-01T06:00:00.000001", None),
        ("date__gt=2025-01-01T00:00:00Z&start=2026-01-01", "2026-01-01T00:00:00", None),
    ],
)
def test_the_stricter_of_two_bounds_wins(text, after, before):
    query = q(text)

    def moment(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None

    assert (query.after, query.before) == (moment(after), moment(before))


def test_last_updated_bounds_are_inclusive():
    event = SAMPLE.entries["event:1327"].item
    stamp = event.last_updated
    assert stamp is not None
    exact = stamp.strftime(STAMP)
    just_after = (stamp + timedelta(seconds=1)).strftime(STAMP)
    just_before = (stamp - timedelta(seconds=1)).strftime(STAMP)
    assert 1327 in chosen(f"start=1957-01-01&last_updated__gte={exact}")
    assert 1327 in chosen(f"start=1957-01-01&last_updated__lte={exact}")
    assert 1327 not in chosen(f"start=1957-01-01&last_updated__gte={just_after}")
    assert 1327 not in chosen(f"start=1957-01-01&last_updated__lte={just_before}")
    # A date alone as the upper bound means the whole day, as for `end`.
    assert 1327 in chosen(f"start=1957-01-01&last_updated__lte={stamp:%Y-%m-%d}")
    # An item LL2 never stamped matches neither bound.
    unstamped = [e.item.id for e in SAMPLE.entries.values() if e.item.last_updated is None]
    if unstamped:
        assert unstamped[0] not in chosen("start=1957-01-01&last_updated__gte=1950-01-01")


def test_start_is_inclusive_and_the_default_window_starts_31_days_back():
    assert 1327 in chosen("start=2026-02-01T06:00:00Z&end=2026-02-01T06:00:00Z")
    low, _ = q("").window(NOW)
    assert low == NOW - timedelta(days=31)
    at_edge = chosen("", snapshot=_moved(SAMPLE, "event:1327", NOW - timedelta(days=31)))
    beyond = chosen("", snapshot=_moved(SAMPLE, "event:1327", NOW - timedelta(days=31, seconds=1)))
    assert 1327 in at_edge and 1327 not in beyond


def _moved(snapshot: Snapshot, key: str, when: datetime) -> Snapshot:
    """That one item, dated `when`, in a snapshot of its own (live data: not the sample,
    which is shown as of its capture)."""
    record = dict(snapshot.entries[key].record)
    record["date"] = when.strftime(STAMP)
    merged, _ = Snapshot({}).merge(parse_events([record]).items, NOW)
    return merged


def test_a_year_an_id_or_a_slug_leaves_the_default_window():
    for text in ("year=2019", "id=18", "slug=starship-hopper-static-fire"):
        assert q(text).window(NOW)[0] is None, text
    assert q(f"id={next(iter(sample_launches(lambda x: True)))}").window(NOW)[0] is None
    assert 147 in chosen("slug=starship-hopper-static-fire")  # 2019: long before the window


# ------------------------------------------------------------------- launch filters


def test_exclude_orbit_leaves_out_exactly_those_orbits():
    everything = launch_ids("start=2021-01-01")
    leo = sample_launches(lambda x: x.orbit_abbrev == "LEO")
    assert leo and launch_ids("start=2021-01-01&exclude_orbit=leo") == everything - leo
    by_name = launch_ids("start=2021-01-01&exclude_orbit=low-earth-orbit")
    assert by_name == everything - leo
    # Two values: either orbit goes.
    gto = sample_launches(lambda x: x.orbit_abbrev == "GTO")
    assert launch_ids("start=2021-01-01&exclude_orbit=leo,gto") == everything - leo - gto
    # A launch without an orbit is never excluded by one, and events stay.
    assert sample_launches(lambda x: x.orbit is None) <= by_name
    assert 1327 in chosen("start=2021-01-01&include=all&exclude_orbit=leo")


def test_exclude_mission_type_and_exclude_status_and_exclude_pad():
    everything = launch_ids("start=2021-01-01")
    comms = sample_launches(lambda x: x.mission_type == "Communications")
    assert launch_ids("start=2021-01-01&exclude_mission_type=communications") == (
        everything - comms
    )
    tbc = sample_launches(lambda x: x.status is not None and x.status.id == 8)
    assert tbc and launch_ids("start=2021-01-01&exclude_status=tbc") == everything - tbc
    pad16 = sample_launches(lambda x: x.pad is not None and x.pad.id == 16)
    assert pad16 and launch_ids("start=2021-01-01&exclude_pad=16") == everything - pad16


def test_a_rocket_matches_by_whole_words_never_by_a_prefix():
    """`falcon-9` names "Falcon 9" and "Falcon 9 Block 5" (a word more), `long-march` the
    family; a rocket whose name only starts with the letters asked is another rocket:
    `long-march-7` is not the Long March 7A, `falco` is nothing."""
    seven_a = sample_launches(lambda x: x.rocket == "Long March 7A")
    assert seven_a and launch_ids("start=2021-01-01&rocket=long-march-7a") == seven_a
    assert launch_ids("start=2021-01-01&rocket=long-march-7") == set()
    assert launch_ids("start=2021-01-01&rocket=falco") == set()
    assert launch_ids("start=2021-01-01&rocket=falcon-9-bl") == set()
    everything = launch_ids("start=2021-01-01")
    assert launch_ids("start=2021-01-01&exclude_rocket=long-march-7") == everything
    assert rocket_matches("falcon-9", {"falcon-9"})
    assert rocket_matches("falcon-9", {"falcon-9-block-5"})
    assert not rocket_matches("falcon-9", {"falcon-9x", "falcon-heavy", "falcon"})
    assert not rocket_matches("falcon-heavy", {"falcon-9", "falcon"})
    assert not rocket_matches("falcon", {"falconx", "xfalcon", "super-falcon"})
    # The rocket's LL2 id names it too.
    assert launch_ids("start=2021-01-01&rocket=216") == sample_launches(
        lambda x: x.rocket_id == 216
    )


def test_a_launch_filter_leaves_events_out_and_its_negation_keeps_them():
    assert all(isinstance(i, str) for i in chosen("start=2021-01-01&include=all&orbit=leo"))
    assert 1327 in chosen("start=2021-01-01&include=all&exclude_rocket=falcon-9")
    assert 1327 in chosen("start=2021-01-01&include=all&exclude_status=go")
    assert 1327 in chosen("start=2021-01-01&include=all&exclude_mission_type=unknown")


# -------------------------------------------------------------------- launch windows


def window_of(opens: str, closes: str, net: str = "2026-07-20T14:49:32Z") -> Any:
    raw = detailed_launch()
    raw.update(net=net, window_start=opens, window_end=closes)
    return launch_window(Launch.from_ll2(raw))


def test_a_window_of_up_to_two_days_is_believed_and_longer_is_not():
    assert timedelta(days=2) == MAX_LAUNCH_WINDOW
    two_days = window_of("2026-07-20T14:00:00Z", "2026-07-22T14:00:00Z")
    assert two_days == (
        datetime(2026, 7, 20, 14, tzinfo=UTC),
        datetime(2026, 7, 22, 14, tzinfo=UTC),
    )
    assert window_of("2026-07-20T14:00:00Z", "2026-07-22T14:00:01Z") is None
    assert window_of("2026-07-20T14:00:00Z", "2026-07-23T14:00:00Z") is None  # three days


def test_a_net_at_the_windows_edge_is_inside_it():
    assert window_of("2026-07-20T14:00:00Z", "2026-07-20T18:00:00Z", net="2026-07-20T18:00:00Z")
    assert window_of("2026-07-20T14:00:00Z", "2026-07-20T18:00:00Z", net="2026-07-20T14:00:00Z")
    assert (
        window_of("2026-07-20T14:00:00Z", "2026-07-20T18:00:00Z", net="2026-07-20T18:00:01Z")
        is None
    )
    assert (
        window_of("2026-07-20T14:00:00Z", "2026-07-20T18:00:00Z", net="2026-07-20T13:59:59Z")
        is None
    )


def test_a_window_must_open_before_it_closes():
    assert window_of("2026-07-20T14:49:32Z", "2026-07-20T14:49:32Z") is None
    # Microseconds are not a window: the calendar writes whole seconds.
    raw = detailed_launch()
    raw.update(window_start="2026-07-20T14:49:32.100Z", window_end="2026-07-20T14:49:32.900Z")
    assert launch_window(Launch.from_ll2(raw)) is None
    assert window_of("2026-07-20T14:49:32Z", "2026-07-20T14:49:33Z") == (
        datetime(2026, 7, 20, 14, 49, 32, tzinfo=UTC),
        datetime(2026, 7, 20, 14, 49, 33, tzinfo=UTC),
    )


# ------------------------------------------------------------- what a launch says


def launch_text(**changes: Any) -> str:
    raw = detailed_launch()
    raw.update(changes)
    return ics.describe_launch(Launch.from_ll2(raw))


def launch_entry(raw: dict[str, Any] | None = None, **changes: Any) -> Entry:
    raw = raw or detailed_launch()
    raw.update(changes)
    ((launch, record),) = parse_launches([raw]).items
    return Entry.create(
        launch, record, sequence=0, first_seen=SEEN, last_seen=SEEN, removed_at=None
    )


def test_a_zero_percent_probability_is_said_not_dropped():
    assert "Probability of launch: 0 %" in launch_text(probability=0)
    assert "Probability of launch: 85 %" in launch_text(probability=85)
    assert "Probability of launch" not in launch_text(probability=None)
    assert launch_json(launch_entry(probability=0))["probability"] == 0
    assert launch_json(launch_entry(probability=None))["probability"] is None


# -------------------------------------------------------------------------- webcasts


def video(url: str, **fields: Any) -> Video:
    base: dict[str, Any] = {"title": None, "publisher": None, "kind": None, "priority": None}
    base["live"] = False
    base.update(fields)
    return Video(url=url, **base)


def test_a_webcast_without_a_priority_ranks_after_any_given_one():
    """LL2's priorities are small numbers (10 is usual); a video without one counts as 1000:
    after every real priority, and in LL2's order among equals."""
    unranked = video("https://v/unranked")
    assert best_video_url([unranked, video("https://v/999", priority=999)]) == "https://v/999"
    assert best_video_url([video("https://v/10", priority=10), unranked]) == "https://v/10"
    # Equal ranks keep LL2's order.
    assert (
        best_video_url([unranked, video("https://v/1000", priority=1000)]) == "https://v/unranked"
    )
    assert best_video_url([video("https://v/1000", priority=1000), unranked]) == "https://v/1000"
    assert (
        best_video_url([video("https://v/1001", priority=1001), unranked]) == "https://v/unranked"
    )
    assert best_video_url([]) is None
    # A priority of 0 is a priority (the best), not a missing one.
    first = best_video_url([video("https://v/5", priority=5), video("https://v/0", priority=0)])
    assert first == "https://v/0"


def test_live_beats_official_beats_priority():
    official = video("https://v/official", kind="Official Webcast", priority=50)
    unofficial = video("https://v/unofficial", kind="Unofficial Webcast", priority=1)
    live = video("https://v/live", live=True, priority=99)
    assert best_video_url([unofficial, official]) == "https://v/official"
    assert best_video_url([unofficial, official, live]) == "https://v/live"
    assert best_video_url([video("https://v/a", kind="official", priority=5), official]) == (
        "https://v/a"  # "official" in any case
    )


# -------------------------------------------------------------------- the calendar


META = CalendarMeta("Launches; Falcon, Heavy\\ East", "Picked; by, me\\", "icalfeed-x", "x.ics")


def test_calendar_names_never_carry_a_separator():
    """`;`, `,` and `\\` are escaped by RFC 5545, but some clients show the escapes (or cut
    the name at them): the calendar's name and description hold spaces instead."""
    head = ics.calendar_head(META)
    calendar = Calendar.from_ical(head)
    assert str(calendar["X-WR-CALNAME"]) == "Launches Falcon Heavy East"
    assert str(calendar["NAME"]) == "Launches Falcon Heavy East"
    assert str(calendar["X-WR-CALDESC"]) == "Picked by me"
    assert b"Launches Falcon Heavy East" in head and b"\\;" not in head and b"\\," not in head
    assert ics.clean_meta("a;b,c\\d\r\ne") == "a b c d e"


def test_the_calendar_says_how_often_to_poll():
    """REFRESH-INTERVAL (RFC 7986) and X-PUBLISHED-TTL (Outlook, Google): one hour."""
    head = ics.calendar_head(META).decode()
    assert "\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in head
    assert "\r\nX-PUBLISHED-TTL:PT1H\r\n" in head
    assert "\r\nPRODID:-//icalfeed//icalfeed " in head and "\r\nCALSCALE:GREGORIAN\r\n" in head
    assert "\r\nUID:icalfeed-x\r\n" in head and head.endswith("END:VCALENDAR\r\n")


def test_an_item_means_the_same_to_every_output():
    entry = SAMPLE.entries["event:1327"]
    meaning = Meaning.of_entry(entry)
    event = entry.item
    assert meaning.uid == "ll2-event-1327@icalfeed"
    assert meaning.start == event.start and not meaning.all_day
    assert meaning.status == "CONFIRMED" and not meaning.cancelled and meaning.reminders
    gone = Meaning.of(event, first_seen=SEEN, removed_at=NOW)
    assert gone.status == "CANCELLED" and gone.cancelled and not gone.reminders
    assert gone.title == f"Cancelled: {event.name}" and gone.revised == NOW


def test_a_removed_item_is_revised_at_its_removal_unless_edited_later():
    entry = SAMPLE.entries["event:1327"]
    stamp = entry.item.last_updated
    assert stamp is not None
    earlier = stamp - timedelta(days=1)
    assert Meaning.of(entry.item, first_seen=SEEN, removed_at=earlier).revised == stamp
    later = stamp + timedelta(days=1)
    assert Meaning.of(entry.item, first_seen=SEEN, removed_at=later).revised == later


def test_an_unstamped_item_is_revised_when_first_seen():
    raw = event_by_name("Booster 19 Rollout")
    raw.pop("last_updated")
    ((event, _),) = parse_events([raw]).items
    assert Meaning.of(event, first_seen=SEEN, removed_at=None).revised == SEEN


def test_an_items_page_is_at_its_kind_and_ll2_id():
    launch = SAMPLE.entries["launch:e1079d3a-c0a6-4b42-bc1d-92e48a5a78fc"].item
    assert page_path(launch) == "/launches/e1079d3a-c0a6-4b42-bc1d-92e48a5a78fc"
    assert page_path(SAMPLE.entries["event:1327"].item) == "/events/1327"


# ------------------------------------------------------------------------------ JSON

EVENT_KEYS = [
    "kind",
    "id",
    "uid",
    "name",
    "title",
    "display_name",
    "slug",
    "start",
    "end",
    "all_day",
    "precision",
    "net",
    "status",
    "cancelled",
    "sequence",
    "removed_at",
    "last_updated",
    "type",
    "agencies",
    "launches",
    "location",
    "description",
    "moves",
    "moved",
    "programs",
    "webcast",
    "webcast_live",
    "videos",
    "links",
    "image",
    "ll2_url",
]
LAUNCH_KEYS = [
    "kind",
    "id",
    "uid",
    "name",
    "title",
    "display_name",
    "slug",
    "start",
    "end",
    "net_utc",
    "window_start",
    "window_end",
    "all_day",
    "precision",
    "net",
    "status",
    "cancelled",
    "launch_status",
    "hold_reason",
    "weather_concerns",
    "updates",
    "fail_reason",
    "probability",
    "sequence",
    "removed_at",
    "last_updated",
    "provider",
    "rocket",
    "mission",
    "mission_type",
    "mission_description",
    "orbit",
    "pad",
    "location",
    "moves",
    "moved",
    "programs",
    "webcast",
    "webcast_live",
    "videos",
    "links",
    "image",
    "ll2_url",
]


def test_an_events_json_fields():
    from icalfeed.feeds.jsonfeed import event_json

    data = event_json(SAMPLE.entries["event:1327"])
    assert sorted(data) == sorted(EVENT_KEYS)
    assert data["kind"] == "event" and data["id"] == 1327
    assert (
        data["uid"] == "ll2-event-1327@icalfeed" and data["slug"] == "booster-19-rollout-to-masseys"
    )
    assert data["title"] == data["display_name"] == data["name"] == "Booster 19 Rollout to Masseys"
    assert (data["start"], data["end"]) == ("2026-02-01T06:00:00Z", "2026-02-01T08:38:51Z")
    assert data["all_day"] is False and data["net"] is None and data["cancelled"] is False
    assert data["precision"] == {
        "id": 1,
        "name": "minute",
        "words": "to the minute",
        "vague": False,
    }
    assert data["status"] == "confirmed" and data["sequence"] == 0 and data["removed_at"] is None
    assert data["last_updated"] == "2026-02-01T08:39:19Z"
    assert data["type"] == {"id": 27, "name": "Rollout", "slug": "rollout"}
    assert data["agencies"] == [{"id": 121, "name": "SpaceX", "abbrev": "SpX"}]
    assert data["launches"] == [
        {
            "id": "ac897b9f-44d2-4ff4-8416-1a0a076e98a2",
            "name": "Starship | Flight 13",
            "slug": "starship-flight-13",
        }
    ]
    assert data["location"] == "Starbase Texas" and data["description"].startswith("Booster 19")
    assert data["moves"] == [] and data["moved"] is None
    assert data["programs"] == [{"id": 1, "name": "SpaceX Starship", "slug": "spacex-starship"}]
    assert data["webcast"] == "https://www.youtube.com/watch?v=ugK-wmFT9OE"
    assert data["webcast_live"] is False and data["links"] == []
    assert data["videos"] == [
        {
            "url": "https://www.youtube.com/watch?v=ugK-wmFT9OE",
            "title": "SpaceX rolls Flight 12 Booster 19 to Masseys",
            "publisher": "NASASpaceflight",
            "live": False,
        }
    ]
    assert data["image"].startswith("https://") and data["image"].endswith(".jpeg")
    assert data["ll2_url"] == "https://ll.thespacedevs.com/2.3.0/events/1327/"


def test_a_vague_removed_events_json():
    from icalfeed.feeds.jsonfeed import event_json

    raw = event_by_name("Booster 19 Rollout")
    raw.update(date="2026-09-30T00:00:00Z", date_precision={"id": 7}, type=None)
    ((event, record),) = parse_events([raw]).items
    entry = Entry.create(event, record, sequence=3, first_seen=SEEN, last_seen=SEEN, removed_at=NOW)
    data = event_json(entry)
    assert data["start"] == "2026-09-30" and data["end"] == "2026-10-01" and data["all_day"]
    assert data["net"] == "NET September 2026" and data["status"] == "cancelled"
    assert data["title"] == "Cancelled: NET September 2026: Booster 19 Rollout to Masseys"
    assert data["display_name"] == "Cancelled: Booster 19 Rollout to Masseys"
    assert data["precision"] == {"id": 7, "name": "month", "words": "to the month", "vague": True}
    assert data["cancelled"] and data["removed_at"] == "2026-11-25T00:00:00Z"
    assert data["type"] is None and data["sequence"] == 3


def test_a_launchs_json_fields():
    data = launch_json(launch_entry(probability=0))
    assert sorted(data) == sorted(LAUNCH_KEYS)
    launch_id = "e1079d3a-c0a6-4b42-bc1d-92e48a5a78fc"
    assert data["kind"] == "launch" and data["id"] == launch_id
    assert data["uid"] == f"ll2-launch-{launch_id}@icalfeed"
    assert data["ll2_url"] == f"https://ll.thespacedevs.com/2.3.0/launches/{launch_id}/"
    assert data["name"] == "Falcon 9 Block 5 | Starlink Group 17-39"
    assert data["title"] == data["display_name"] == "Falcon 9 | Starlink Group 17-39"
    assert (data["start"], data["end"]) == ("2026-07-20T14:00:00Z", "2026-07-20T18:00:00Z")
    assert data["net_utc"] == "2026-07-20T14:49:32Z"
    assert (data["window_start"], data["window_end"]) == (data["start"], data["end"])
    assert data["precision"] == {
        "id": 0,
        "name": "second",
        "words": "to the second",
        "vague": False,
    }
    assert data["launch_status"] == {"id": 1, "name": "Go for Launch", "abbrev": "Go"}
    assert data["status"] == "confirmed" and data["probability"] == 0
    assert data["updates"][1] == {
        "at": "2026-07-20T13:23:00Z",
        "comment": "Now targeting Jul 20 at 14:49 UTC",
        "url": "https://www.spacex.com/launches/sl-17-39",
    }
    assert data["provider"] == {"id": 121, "name": "SpaceX", "abbrev": "SpX"}
    assert data["rocket"] == {
        "id": 164,
        "name": "Falcon 9",
        "family": "Falcon",
        "full_name": "Falcon 9 Block 5",
    }
    assert (data["mission"], data["mission_type"], data["orbit"]) == (
        "Starlink Group 17-39",
        "Communications",
        "Low Earth Orbit",
    )
    assert data["pad"] == {
        "id": 16,
        "name": "Space Launch Complex 4E",
        "location": "Vandenberg SFB, CA, USA",
        "latitude": 34.632,
        "longitude": -120.611,
        "map_url": "https://www.google.com/maps?q=34.632,-120.611",
    }
    assert data["location"] == "Space Launch Complex 4E, Vandenberg SFB, CA, USA"
    assert data["programs"] == [{"id": 25, "name": "Starlink", "slug": "starlink"}]
    assert data["webcast"] == "https://x.com/i/broadcasts/1qGoNNQZvEMKv" and data["webcast_live"]
    assert data["videos"][2] == {
        "url": "https://x.com/i/broadcasts/1qGoNNQZvEMKv",
        "title": "Starlink Mission",
        "publisher": "SpaceX",
        "live": False,
    }
    assert data["links"] == [{"url": "https://www.spacex.com/launches/sl-17-39", "title": "SpaceX"}]
    assert data["mission_description"].startswith("A batch of 24 satellites")
    assert data["hold_reason"] is None and data["fail_reason"] is None
    assert data["weather_concerns"] is None and data["sequence"] == 0


def test_a_launch_with_only_names_in_json():
    raw = detailed_launch()
    raw.pop("launch_service_provider")
    raw["lsp_name"] = "Rocket Lab"
    raw.pop("rocket")
    raw.pop("pad")
    raw.pop("status")
    data = launch_json(launch_entry(copy.deepcopy(raw)))
    assert data["provider"] == {"id": None, "name": "Rocket Lab", "abbrev": None}
    assert data["rocket"] is None and data["pad"] is None and data["launch_status"] is None
    raw.pop("lsp_name")
    assert launch_json(launch_entry(raw))["provider"] is None


def test_the_json_document_is_what_json_dumps_writes():
    """The items are serialised one by one and spliced in: the same bytes as json.dumps of
    the whole document, for events, launches, both and neither."""
    import json

    from icalfeed.feeds.jsonfeed import event_json, item_json_piece, render_json

    for text, kinds in (
        ("start=2026-01-01", "events"),
        ("start=2021-01-01&include=launches", "launches"),
        ("start=2026-07-01&include=all", "both"),
        ("start=2026-01-01&search=nothing-at-all", "none"),
    ):
        query = q(text)
        selection = select(SAMPLE, query, NOW, 5000)
        meta = CalendarMeta("Name", "Description", "uid", "x.ics")
        notes = ["a note"] if kinds == "both" else []
        body = render_json(selection, meta, query.include, notes)
        document = json.loads(body)
        assert document["calendar"] == {"name": "Name", "description": "Description"}
        assert document["count"] == len(selection.entries)
        assert document["total"] == selection.total
        assert document["attribution"].startswith("Data: Launch Library 2")
        assert document.get("notes", []) == notes
        for name, kind in (("events", "event"), ("launches", "launch")):
            if kind in query.include:
                shown = [e for e in selection.entries if e.kind == kind]
                expected = [launch_json(e) if e.kind == "launch" else event_json(e) for e in shown]
                assert document[name] == expected, (text, name)
                assert [json.loads(item_json_piece(e)) for e in shown] == expected
            else:
                assert name not in document, (text, name)
        again = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1).encode()
        assert body == again, text


# ------------------------------------------------------- a query's canonical forms

EVERY_PARAMETER = (
    "program=1&agency=spx&type=docking&exclude_program=artemis&exclude_agency=esa"
    "&exclude_type=eva&location=Starbase&search=Flyby&webcast=1&vague=hide&alarm=30,10"
    "&start=2026-01-01&end=2026-02-01&year=2026&month=2&day=1&id=1327&slug=x"
    "&spacestation__ids=4&expedition__ids=119&launch__ids=ABC&video_url=https://v"
    "&last_updated__gte=2026-01-01T12:00:00Z&last_updated__lte=2026-02-01&rocket=falcon-9"
    "&exclude_rocket=electron&status=go,tbd&exclude_status=hold&orbit=leo&exclude_orbit=gto"
    "&mission_type=communications&exclude_mission_type=unknown&pad=16&exclude_pad=kennedy"
    "&include=all"
)


def test_every_parameter_reads_back_from_the_link_built_from_it():
    """The builder's links (`query_string`) name every field in a fixed order, readably
    (slugs, words, ISO dates), and parse back to the same query."""
    query = q(EVERY_PARAMETER)
    text = query.query_string(CATALOG)
    assert text == (
        "program=spacex-starship&agency=spacex&type=docking&exclude_program=artemis"
        "&exclude_agency=european-space-agency&exclude_type=eva&location=starbase"
        "&search=flyby&webcast=1&vague=hide&alarm=10,30&start=2026-01-01&end=2026-02-01"
        "&year=2026&month=2&day=1&id=1327&slug=x&spacestation__ids=4&expedition__ids=119"
        "&launch__ids=abc&video_url=https:%2F%2Fv&last_updated__gte=2026-01-01T12:00:00Z"
        "&last_updated__lte=2026-02-01&rocket=falcon-9&exclude_rocket=electron"
        "&status=go,tbd&exclude_status=hold&orbit=leo&exclude_orbit=gto"
        "&mission_type=communications&exclude_mission_type=unknown&pad=16&exclude_pad=kennedy"
        "&include=events,launches"
    )
    assert q(text) == query
    for other in (
        "",
        "webcast=0&include=launches",
        "date__gt=2026-01-01T00:00:00Z&date__lt=2026-03-01T12:30:00.5Z",
        f"id={next(iter(sample_launches(lambda x: True)))}",
        "include=events",
        "end=2026-02-01T10:00:00Z&last_updated__lte=2026-02-01T10:00:00Z",
    ):
        again = q(other)
        assert q(again.query_string(CATALOG)) == again, other
    assert q("").query_string(CATALOG) == ""
    assert q("webcast=0&include=launches").query_string(CATALOG) == "webcast=0&include=launches"
    assert q("date__gt=2026-01-01T00:00:00Z").query_string(CATALOG) == (
        "start=2026-01-01T00:00:00.000001Z"
    )


def test_the_canonical_form_names_every_field_and_leaves_defaults_out():
    assert q("").canonical() == "" and q("vague=mark&include=events").canonical() == ""
    canonical = q(EVERY_PARAMETER).canonical()
    assert canonical.startswith("agencies=121&programs=1&types=2&exclude_agencies=27")
    for part in (
        "&webcast=true&",
        "&after=2026-01-01T00%3A00%3A00%2B00%3A00&",
        "&before=2026-02-01T23%3A59%3A59.999999%2B00%3A00&",
        "&vague=hide&alarms=10%2C30&",
        "&statuses=1%2C2&exclude_statuses=5&",
        "&include=event%2Claunch",
    ):
        assert part in canonical, part
    assert q("webcast=0").canonical() == "webcast=false"
    from icalfeed.feeds.query import query_key

    assert query_key(q(EVERY_PARAMETER)) == query_key(q(EVERY_PARAMETER.replace("30,10", "10,30")))
    assert len(query_key(q(""))) == 16 and query_key(q("")) != query_key(q("webcast=0"))


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("search=x&fbclid=y", "search=x"),
        ("utm_source=a&search=x&UTM_Medium=b", "search=x"),
        ("search=x&gclid=1&msclkid=2&mc_cid=3&mc_eid=4&igshid=5&ref_src=6", "search=x"),
        ("search=x&utm%5Fsource=a&ref%5Fsrc=b", "search=x"),
        ("search=x&&utm_id=1&", "search=x"),
        ("search=x&utm_source=a=b", "search=x"),
        ("search=x&fbclid=a=b", "search=x"),
        ("search=utm_x&location=a", "search=utm_x&location=a"),  # a value, not a name
        ("search=x", "search=x"),
        ("refsrc=1&mcclid=2", "refsrc=1&mcclid=2"),  # neither is one (nor known)
    ],
)
def test_tracking_parameters_leave_the_query_string(raw, kept):
    from icalfeed.feeds.query import is_tracking, without_tracking

    assert without_tracking(raw) == kept
    assert is_tracking(" UTM_Campaign ") and is_tracking("FBCLID") and not is_tracking("utmx")
    if "refsrc" not in raw:
        assert q(raw) == q(kept)


def test_parse_moment_reads_dates_and_datetimes_as_utc():
    from icalfeed.feeds.query import parse_moment

    assert parse_moment(" 2026-06-01 ") == datetime(2026, 6, 1, tzinfo=UTC)
    assert parse_moment("2026-06-01", end_of_day=True) == datetime(
        2026, 6, 1, 23, 59, 59, 999999, tzinfo=UTC
    )
    assert parse_moment("2026-06-01T12:00:00+02:00") == datetime(2026, 6, 1, 10, tzinfo=UTC)
    assert parse_moment("2026-06-01T12:00:00 0200") == datetime(2026, 6, 1, 10, tzinfo=UTC)
    assert parse_moment("1900-01-01") == datetime(1900, 1, 1, tzinfo=UTC)
    assert parse_moment("2200-12-31") is not None
    for bad in ("1899-12-31", "2201-01-01", "2026-02-30", "soon", "0001-01-01T00:00:00Z"):
        assert parse_moment(bad) is None, bad


def test_numbers_names_and_flags():
    assert q("year=1900,2200").years == frozenset({1900, 2200})
    assert q("month=1,12&day=1,31").months == frozenset({1, 12})
    assert q("day=31").days == frozenset({31})
    for bad, message in (
        ("year=1899", "year takes whole numbers from 1900 to 2200"),
        ("day=0", "day takes whole numbers from 1 to 31"),
        ("day=32", "day takes whole numbers from 1 to 31"),
        ("month=0", "month takes whole numbers from 1 to 12"),
        ("spacestation__ids=x", "spacestation__ids takes whole numbers from 0 to 1000000000"),
        ("webcast=1&webcast=0", "webcast takes one value, got 2"),
        ("vague=hide,mark", "vague takes one value, got 2"),
        ("status=nope", "status must be one of go, tbd, success, failure, hold, in-flight"),
        ("pad=--", "pad needs a pad id or name, got '--'"),
        ("orbit=--", "orbit needs a name, got '--'"),
        ("include=nothing", "include takes events, launches or both (events,launches)"),
    ):
        with pytest.raises(QueryError) as caught:
            q(bad)
        assert str(caught.value).startswith(message), (bad, str(caught.value))
    for yes in ("1", "true", "YES", "on"):
        assert q(f"webcast={yes}").webcast is True
    for no in ("0", "False", "no", "off"):
        assert q(f"webcast={no}").webcast is False
    assert q("vague=HIDE").vague == "hide"
    assert q("status=8,Launch Successful,4").statuses == frozenset({8, 3, 4})
    with pytest.raises(QueryError):
        q("status=9")
    assert q("pad=16,Kennedy Space").pads == frozenset({"16", "kennedy space"})
    assert q("include=event,LAUNCH").include == frozenset({"event", "launch"})
    assert q("include=all").include == frozenset({"event", "launch"})
    assert FeedQuery.from_string("", CATALOG, frozenset({"launch"})).include == frozenset(
        {"launch"}
    )
    assert q("id=1327,ABCDEF01-2345-6789-abcd-ef0123456789").launch_ids == frozenset(
        {"abcdef01-2345-6789-abcd-ef0123456789"}
    )
    assert q("slug=Some_Slug").slugs == frozenset({"some-slug"})
    assert q("search= ,Flyby").searches == frozenset({"flyby"})


def test_names_and_values_are_bounded():
    from icalfeed.feeds.query import MAX_VALUE_LENGTH, MAX_VALUES

    assert MAX_VALUES == 50 and MAX_VALUE_LENGTH == 200
    assert len(q("type=" + ",".join(["docking"] * 50)).types) == 1
    assert q("search=" + "x" * 200).searches
    with pytest.raises(QueryError, match="too many values for 'type' \\(at most 50\\)"):
        q("type=docking&type=" + ",".join(["docking"] * 50))
    with pytest.raises(QueryError, match="unknown parameter 'Colour'"):
        q("Colour=red")
    assert q(" TYPE =docking").types == q("type=docking").types  # names in any case


def test_the_json_notes_name_what_no_listed_launch_has():
    from icalfeed.feeds.select import unmatched_names

    assert (
        unmatched_names(q("rocket=falcon-9&orbit=leo&mission_type=communications"), CATALOG) == []
    )
    assert unmatched_names(q("rocket=falcon"), CATALOG) == []  # the family
    assert unmatched_names(q("rocket=falcon-8"), CATALOG) == [
        "no listed launch has rocket 'falcon-8' yet (closest known: 'falcon-9')"
    ]
    assert unmatched_names(q("exclude_orbit=lunar-orbit&mission_type=x-y-z"), CATALOG) == [
        "no listed launch has orbit 'lunar-orbit' yet (closest known: 'polar-orbit')",
        "no listed launch has mission type 'x-y-z' yet",
    ]


# ------------------------------------------------------- filters by kind of item

STARLINK = "e1079d3a-c0a6-4b42-bc1d-92e48a5a78fc"


def test_pads_by_id_or_by_name_and_never_on_events():
    pad16 = sample_launches(lambda x: x.pad is not None and x.pad.id == 16)
    assert launch_ids("start=2021-01-01&pad=16") == pad16
    vandenberg = sample_launches(lambda x: "Vandenberg" in (x.location or ""))
    assert vandenberg and launch_ids("start=2021-01-01&pad=vandenberg sfb") == vandenberg
    assert launch_ids("start=2021-01-01&pad=complex 4e") == vandenberg
    assert launch_ids("start=2021-01-01&pad=99999") == set()
    assert all(isinstance(i, str) for i in chosen("start=2021-01-01&include=all&pad=16"))
    assert 1327 in chosen("start=2021-01-01&include=all&exclude_pad=16")
    everything = launch_ids("start=2021-01-01")
    assert launch_ids("start=2021-01-01&exclude_pad=vandenberg") == everything - vandenberg


def test_ids_and_linked_launches_select_both_kinds():
    assert chosen(f"id={STARLINK}&include=all") == {STARLINK}
    assert chosen(f"id=1327,{STARLINK}&include=all") == {1327, STARLINK}
    flight = "ac897b9f-44d2-4ff4-8416-1a0a076e98a2"  # Starship Flight 13, linked from 1327
    linked = chosen(f"start=2021-01-01&include=all&launch__ids={flight}")
    assert linked == {1327, flight} | {
        e.item.id
        for e in SAMPLE.entries.values()
        if e.kind == "event" and any(x.id == flight for x in e.item.launches)
    }
    assert STARLINK not in linked


def test_event_filters_leave_launches_out():
    for text in ("type=docking", "spacestation__ids=4", "expedition__ids=119"):
        found = chosen(f"start=2019-01-01&include=all&{text}")
        assert found and all(isinstance(i, int) for i in found), text
    assert STARLINK in chosen("start=2021-01-01&include=all&exclude_type=docking")


def test_a_status_id_we_do_not_know_is_judged_by_its_words():
    raw = detailed_launch()
    raw["status"] = {"id": 99, "name": "Go for Launch", "abbrev": "Go"}
    snapshot, _ = Snapshot({}).merge(parse_launches([raw]).items, NOW)
    assert chosen("start=2021-01-01&include=launches&status=go", snapshot) == {STARLINK}
    raw["status"] = {"id": 98, "name": "To Be Confirmed", "abbrev": None}
    snapshot, _ = Snapshot({}).merge(parse_launches([raw]).items, NOW)
    assert chosen("start=2021-01-01&include=launches&status=tbc", snapshot) == {STARLINK}
    assert chosen("start=2021-01-01&include=launches&status=go", snapshot) == set()
    raw["status"] = {"id": 2, "name": "Go for Launch", "abbrev": "Go"}  # the id decides
    snapshot, _ = Snapshot({}).merge(parse_launches([raw]).items, NOW)
    assert chosen("start=2021-01-01&include=launches&status=tbd", snapshot) == {STARLINK}


def test_feed_day_is_the_utc_day():
    from datetime import timezone

    from icalfeed.feeds.select import feed_day

    east = timezone(timedelta(hours=2))
    assert feed_day(datetime(2026, 11, 26, 1, 30, 45, 123, tzinfo=east)) == datetime(
        2026, 11, 25, tzinfo=UTC
    )
    assert feed_day(datetime(2026, 11, 25, 23, 59, 59, 999999, tzinfo=UTC)) == datetime(
        2026, 11, 25, tzinfo=UTC
    )


def test_notes_for_names_by_whole_words():
    from icalfeed.feeds.select import unmatched_names

    # A rocket's name as a word prefix names it (so no note), an orbit's or a mission
    # type's does not: those are whole names.
    assert unmatched_names(q("rocket=long-march-3b"), CATALOG) == []
    assert unmatched_names(q("orbit=low-earth"), CATALOG) == [
        "no listed launch has orbit 'low-earth' yet (closest known: 'low-earth-orbit')"
    ]
    assert unmatched_names(q("mission_type=mission"), CATALOG) == [
        "no listed launch has mission type 'mission' yet"
    ]
    assert unmatched_names(q("rocket=falcon-9,falcon-8&exclude_rocket=falco"), CATALOG) == [
        "no listed launch has rocket 'falco' yet (closest known: 'falcon')",
        "no listed launch has rocket 'falcon-8' yet (closest known: 'falcon-9')",
    ]


def test_links_keep_unknown_ids_and_launch_ids():
    assert FeedQuery(programs=frozenset({999999})).query_string(CATALOG) == "program=999999"
    assert q(f"id={STARLINK}").query_string(CATALOG) == f"id={STARLINK}"
    assert q("search=x&utm_source=a=b").query_string(CATALOG) == "search=x"


def test_feed_day_does_not_depend_on_the_machines_time_zone(monkeypatch):
    import time

    from icalfeed.feeds.select import feed_day

    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14
    time.tzset()
    try:
        assert feed_day(datetime(2026, 11, 25, 12, tzinfo=UTC)) == datetime(
            2026, 11, 25, tzinfo=UTC
        )
    finally:
        monkeypatch.undo()
        time.tzset()


# --------------------------------------------------- an item's earlier dates, in JSON

MOVES = (
    Move(
        datetime(2026, 12, 12, 14, tzinfo=UTC), Precision.MINUTE, datetime(2026, 12, 3, tzinfo=UTC)
    ),
    Move(datetime(2026, 12, 31, tzinfo=UTC), Precision.MONTH, datetime(2026, 11, 1, tzinfo=UTC)),
)


def test_an_items_earlier_dates_in_words_and_in_json():
    from icalfeed.feeds.jsonfeed import event_json
    from icalfeed.feeds.meaning import date_words

    assert date_words(datetime(2026, 12, 12, 14, tzinfo=UTC), Precision.MINUTE) == (
        "12 Dec 2026 14:00 UTC"
    )
    assert date_words(datetime(2026, 12, 12, tzinfo=UTC), Precision.DAY) == "12 Dec 2026"
    assert date_words(datetime(2026, 9, 30, tzinfo=UTC), Precision.QUARTER_3) == "NET Q3 2026"
    entry = SAMPLE.entries["event:1327"]
    moved = Entry.create(
        entry.item,
        entry.record,
        sequence=2,
        first_seen=SEEN,
        last_seen=SEEN,
        removed_at=None,
        moves=MOVES,
    )
    words = (
        "Moved 2 times: was 12 Dec 2026 14:00 UTC until 3 Dec 2026; "
        "was NET December 2026 until 1 Nov 2026"
    )
    assert Meaning.of_entry(moved).moved == words
    data = event_json(moved)
    assert data["moved"] == words
    assert data["moves"] == [
        {"was": "2026-12-12T14:00:00Z", "precision": "minute", "until": "2026-12-03T00:00:00Z"},
        {"was": "2026-12-31T00:00:00Z", "precision": "month", "until": "2026-11-01T00:00:00Z"},
    ]
    once = Entry.create(
        entry.item,
        entry.record,
        sequence=1,
        first_seen=SEEN,
        last_seen=SEEN,
        removed_at=None,
        moves=MOVES[:1],
    )
    assert (
        Meaning.of_entry(once).moved == "Moved 1 time: was 12 Dec 2026 14:00 UTC until 3 Dec 2026"
    )


def test_a_removed_launch_and_an_unknown_precision_in_json():
    raw = detailed_launch()
    raw["net_precision"] = None
    ((launch, record),) = parse_launches([raw]).items
    entry = Entry.create(
        launch, record, sequence=1, first_seen=SEEN, last_seen=SEEN, removed_at=NOW
    )
    data = launch_json(entry)
    assert data["removed_at"] == "2026-11-25T00:00:00Z" and data["cancelled"]
    assert data["last_updated"] == "2026-07-20T14:19:43Z" and data["status"] == "cancelled"
    assert data["precision"] == {
        "id": None,
        "name": "unknown",
        "words": "unknown precision",
        "vague": True,
    }


def test_a_combined_document_with_no_events_still_lists_its_launches():
    import json

    from icalfeed.feeds.jsonfeed import render_json

    query = q("start=2021-01-01&include=all&rocket=falcon-9")
    selection = select(SAMPLE, query, NOW, 5000)
    body = render_json(selection, CalendarMeta("N", "D", "u", "x.ics"), query.include)
    document = json.loads(body)
    assert document["events"] == [] and len(document["launches"]) == len(selection.entries) > 0
    assert "\\u" not in body.decode()  # UTF-8, not escapes


# -------------------------------------------------------- the descriptions, whole

ATTRIBUTED = "Data: Launch Library 2 by The Space Devs (https://thespacedevs.com/llapi)"
EARLIER = (
    Move(datetime(2026, 1, 31, tzinfo=UTC), Precision.MONTH, datetime(2026, 1, 2, tzinfo=UTC)),
)


def test_an_events_description_whole():
    raw = event_by_name("Booster 19 Rollout")
    raw["info_urls"] = [
        {"url": "https://example.org/info", "title": "Info page"},
        {"url": "https://example.org/2", "title": None},
    ]
    raw["vid_urls"] = [
        *raw.get("vid_urls", []),
        {"url": "https://v/untitled", "title": None, "publisher": None},
        {"url": "https://v/published", "title": None, "publisher": "NASA"},
    ]
    ((event, _),) = parse_events([raw]).items
    removed = datetime(2026, 2, 3, tzinfo=UTC)
    meaning = Meaning.of(event, first_seen=SEEN, removed_at=removed, moves=EARLIER)
    assert ics.describe(event, removed, meaning) == "\n".join(
        [
            "Removed from Launch Library 2 on 2026-02-03.",
            "",
            "Type: Rollout",
            "When: 2026-02-01 06:00 UTC (to the minute)",
            "Moved 1 time: was NET January 2026 until 2 Jan 2026",
            "Where: Starbase Texas",
            "Agencies: SpaceX",
            "Programs: SpaceX Starship",
            "Launches: Starship | Flight 13",
            "",
            "Booster 19 is rolling out to the Masseys test site at Starbase ahead of testing.",
            "",
            "Watch:",
            "- SpaceX rolls Flight 12 Booster 19 to Masseys: https://www.youtube.com/watch?v=ugK-wmFT9OE",
            "- Video: https://v/untitled",
            "- NASA: https://v/published",
            "",
            "More:",
            "- Info page: https://example.org/info",
            "- Info: https://example.org/2",
            "",
            ATTRIBUTED,
        ]
    )
    # Nothing moved or removed: not said.
    text = ics.describe(event)
    assert text.startswith("Type: Rollout\nWhen: ") and "Moved" not in text
    assert ics.describe(event, None, Meaning.of(event, first_seen=SEEN, removed_at=None)) == text


def test_a_launchs_description_whole():
    raw = detailed_launch()
    raw.update(
        holdreason="Range conflict",
        failreason="Second stage anomaly",
        weather_concerns="Cumulus clouds",
        probability=0,
    )
    raw["infoURLs"] = [{"url": "https://example.org/l", "title": None}]
    raw["updates"] = [
        {"comment": "No time or link", "info_url": None, "created_on": None},
        raw["updates"][0],
    ]
    launch = Launch.from_ll2(raw)
    removed = datetime(2026, 7, 21, tzinfo=UTC)
    meaning = Meaning.of(launch, first_seen=SEEN, removed_at=removed, moves=EARLIER)
    assert ics.describe_launch(launch, removed, meaning) == "\n".join(
        [
            "Removed from Launch Library 2 on 2026-07-21.",
            "",
            "Status: Go for Launch",
            "Hold: Range conflict",
            "Failure: Second stage anomaly",
            "Weather: Cumulus clouds",
            "When: 2026-07-20 14:49 UTC (to the second)",
            "Window: 14:00–18:00 UTC",  # noqa: RUF001
            "Moved 1 time: was NET January 2026 until 2 Jan 2026",
            "Provider: SpaceX",
            "Rocket: Falcon 9",
            "Mission: Starlink Group 17-39",
            "Mission type: Communications",
            "Orbit: Low Earth Orbit",
            "Probability of launch: 0 %",
            "Pad: Space Launch Complex 4E, Vandenberg SFB, CA, USA",
            "Map: https://www.google.com/maps?q=34.632,-120.611",
            "",
            "A batch of 24 satellites for the Starlink mega-constellation - SpaceX's project "
            "for space-based Internet communication system.",
            "",
            "Latest from Launch Library 2:",
            "- 20 Jul 2026 14:37 UTC: Unofficial Re-stream by SPACE AFFAIRS has started "
            "(https://www.youtube.com/watch?v=p648NlL0fi4)",
            "- No time or link",
            "",
            "Watch:",
            "- GO! - SpaceX - Falcon 9 - Starlink 17-39 - SLC-4E - Vandenberg SFB - Space "
            "Affairs Live: https://www.youtube.com/watch?v=p648NlL0fi4",
            "- Live: SpaceX Falcon 9 rocket launches 24 Starlink internet satellites from "
            "Vandenberg, California: https://www.youtube.com/watch?v=mXVL1SQKNvE",
            "- Starlink Mission: https://x.com/i/broadcasts/1qGoNNQZvEMKv",
            "",
            "More:",
            "- Info: https://example.org/l",
            "",
            ATTRIBUTED,
        ]
    )


def test_a_vague_launchs_description_says_the_period():
    raw = detailed_launch()
    raw["net_precision"] = {"id": 10}
    text = ics.describe_launch(Launch.from_ll2(raw))
    assert text.startswith("Status: Go for Launch\nWhen: NET Q3 2026 (third quarter)\nProvider:")
    assert "Window:" not in text and "Removed" not in text


# ------------------------------------------------------------- more of the edges


def test_queries_from_a_multidict_a_dict_or_pairs():
    from werkzeug.datastructures import MultiDict

    both = frozenset({2, 3})
    assert (
        FeedQuery.from_args(MultiDict([("type", "docking"), ("type", "eva")]), CATALOG).types
        == both
    )
    assert FeedQuery.from_args({"type": "docking,eva"}, CATALOG).types == both
    assert FeedQuery.from_args([("type", "docking"), ("type", "eva")], CATALOG).types == both
    assert FeedQuery.from_args({"year": 2020}, CATALOG).years == frozenset({2020})
    assert q("?type=docking") == q("type=docking")
    assert q("utm_source=x&type=docking&fbclid=y&year=2020").years == frozenset({2020})


def test_an_unknown_parameter_is_refused_even_blank():
    with pytest.raises(QueryError) as caught:
        q("colour=")
    assert str(caught.value) == "unknown parameter 'colour'"
    with pytest.raises(QueryError) as caught:
        q("agncy=x")
    assert str(caught.value) == "unknown parameter 'agncy' (did you mean 'agency'?)"
    assert q("search=&type=docking") == q("type=docking")


def test_the_years_a_url_may_name_and_the_length_of_a_number():
    from icalfeed.feeds.query import parse_moment

    assert parse_moment("1900-01-01T00:00:00Z") == datetime(1900, 1, 1, tzinfo=UTC)
    assert parse_moment("2200-12-31T23:59:59Z") == datetime(2200, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert parse_moment("2200-12-31T23:59:59-14:00") is None  # already 2201 in UTC
    assert parse_moment("1900-01-01T00:00:00+01:00") is None  # still 1899 in UTC
    assert q("id=123456789012").ids == frozenset({123456789012})
    with pytest.raises(QueryError, match="id takes event ids"):
        q("id=1234567890123")
    assert q("slug=ß").slugs == frozenset({"ß"})  # no slug of its own: kept as written


def test_dates_are_read_in_utc_whatever_the_machines_time_zone(monkeypatch):
    import time

    from icalfeed.feeds.query import parse_moment

    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14
    time.tzset()
    try:
        naive = parse_moment("2026-06-01T12:00:00")
        offset = parse_moment("2026-06-01T12:00:00+02:00")
        assert naive == datetime(2026, 6, 1, 12, tzinfo=UTC)
        assert offset == datetime(2026, 6, 1, 10, tzinfo=UTC)
        assert naive is not None and offset is not None
        assert naive.isoformat() == "2026-06-01T12:00:00+00:00"
        assert offset.isoformat() == "2026-06-01T10:00:00+00:00"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_launch_is_named_by_rocket_and_mission_only_with_both():
    raw = detailed_launch()
    raw["mission"] = None
    alone = Launch.from_ll2(raw)
    assert Meaning.of(alone, first_seen=SEEN, removed_at=None).name == alone.name
    raw = detailed_launch()
    raw.pop("rocket")
    assert Meaning.of(Launch.from_ll2(raw), first_seen=SEEN, removed_at=None).name == (
        "Falcon 9 Block 5 | Starlink Group 17-39"
    )


def test_half_a_window_is_no_window():
    for half in ("window_start", "window_end"):
        raw = detailed_launch()
        raw[half] = None
        assert launch_window(Launch.from_ll2(raw)) is None, half


def test_an_unstamped_entry_is_revised_when_first_seen():
    raw = event_by_name("Booster 19 Rollout")
    raw.pop("last_updated")
    ((event, record),) = parse_events([raw]).items
    entry = Entry.create(
        event, record, sequence=0, first_seen=SEEN, last_seen=SEEN, removed_at=None
    )
    assert Meaning.of_entry(entry).revised == SEEN


def test_text_loses_its_control_characters_and_keeps_one_kind_of_line_break():
    assert ics.clean_text("a\r\nb\rc\nd") == "a\nb\nc\nd"
    assert ics.clean_text("a\x00b\x1fc\x7fd\te") == "abcd\te"
    assert ics.clean_line(" a\r\n b\x00 ") == "a b"


def test_an_unknown_parameter_is_named_as_written():
    with pytest.raises(QueryError) as caught:
        q("Xyz=1")
    assert str(caught.value) == "unknown parameter 'Xyz'"


def test_ignored_ll2_parameters_anywhere_in_the_query():
    assert q("limit=10&type=docking&offset=5") == q("type=docking")
    assert q("format=json&mode=list&ordering=net&year=2020") == q("year=2020")


def test_a_note_for_each_unknown_name_after_known_ones():
    from icalfeed.feeds.select import unmatched_names

    assert unmatched_names(q("rocket=ariane-5,falcon-8"), CATALOG) == [
        "no listed launch has rocket 'falcon-8' yet (closest known: 'falcon-9')"
    ]


def test_lists_in_a_description_are_comma_separated():
    raw = event_by_name("Booster 19 Rollout")
    raw["agencies"] = [
        {"id": 121, "name": "SpaceX", "abbrev": "SpX"},
        {"id": 44, "name": "NASA", "abbrev": "NASA"},
    ]
    raw["program"] = [{"id": 1, "name": "SpaceX Starship"}, {"id": 17, "name": "ISS"}]
    raw["launches"] = [
        {"id": "a0000000-0000-4000-8000-000000000001", "name": "One"},
        {"id": "a0000000-0000-4000-8000-000000000002", "name": "Two"},
    ]
    ((event, _),) = parse_events([raw]).items
    text = ics.describe(event)
    assert "\nAgencies: SpaceX, NASA\n" in text
    assert "\nPrograms: SpaceX Starship, ISS\n" in text
    assert "\nLaunches: One, Two\n" in text


def test_a_launchs_untitled_videos():
    raw = detailed_launch()
    raw["vidURLs"] = [
        {"url": "https://v/u", "title": None, "publisher": None},
        {"url": "https://v/p", "title": None, "publisher": "NASA"},
    ]
    text = ics.describe_launch(Launch.from_ll2(raw))
    assert "\nWatch:\n- Video: https://v/u\n- NASA: https://v/p\n" in text


def test_a_vevent_says_what_its_entry_holds():
    """Through `vevent` (the whole VEVENT, as a cache builds it): the sequence, the
    cancellation, the earlier dates and the image, for both kinds."""
    removed = datetime(2026, 7, 21, tzinfo=UTC)
    event = SAMPLE.entries["event:1327"]
    raw = detailed_launch()
    ((launch, record),) = parse_launches([raw]).items
    for item, rec in ((event.item, event.record), (launch, record)):
        entry = Entry.create(
            item,
            rec,
            sequence=4,
            first_seen=SEEN,
            last_seen=SEEN,
            removed_at=removed,
            moves=EARLIER,
        )
        component = ics.vevent(entry)
        assert component["SEQUENCE"] == 4 and str(component["STATUS"]) == "CANCELLED"
        text = str(component["DESCRIPTION"])
        assert text.startswith("Removed from Launch Library 2 on 2026-07-21.")
        assert "Moved 1 time: was NET January 2026 until 2 Jan 2026" in text
        assert component["IMAGE"].params["VALUE"] == "URI"
        assert str(component["IMAGE"]).startswith("https://")


def test_a_launch_without_a_pad_has_no_geo():
    raw = detailed_launch()
    raw.pop("pad")
    component = ics.launch_vevent(Launch.from_ll2(raw), sequence=0, first_seen=SEEN)
    assert "GEO" not in component and "LOCATION" not in component
