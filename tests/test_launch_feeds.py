"""The launches feed and combined calendars over HTTP, on the packaged sample (17 real LL2
launches from ../shared/ll2/launches beside the 257 events)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from icalendar import Calendar

from icalfeed.data.store import load_sample
from icalfeed.ll2.models import Launch

SINCE = "start=2021-01-01"
LAUNCHES = list(load_sample().launches)
STARLINK = "e1079d3a-c0a6-4b42-bc1d-92e48a5a78fc"  # Falcon 9, SLC-4E, Go, window 14:00 to 18:00


def calendar(client, url: str) -> Calendar:
    response = client.get(url)
    assert response.status_code == 200, (url, response.data[:300])
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data)


def uids(client, url: str) -> set[str]:
    return {str(v["UID"]) for v in calendar(client, url).walk("VEVENT")}


def launch_uids(pick: Callable[[Launch], bool]) -> set[str]:
    return {f"ll2-launch-{x.id}@icalfeed" for x in LAUNCHES if pick(x)}


def test_the_launches_feed_holds_every_launch_and_nothing_else(client):
    found = uids(client, f"/launches.ics?{SINCE}")
    assert found == launch_uids(lambda x: True) and len(found) == 17


def test_a_launch_maps_to_a_full_vevent(client):
    (vevent,) = [
        v
        for v in calendar(client, f"/launches.ics?{SINCE}").walk("VEVENT")
        if str(v["UID"]) == f"ll2-launch-{STARLINK}@icalfeed"
    ]
    assert str(vevent["SUMMARY"]) == "Falcon 9 | Starlink Group 17-39"
    assert vevent.decoded("DTSTART").isoformat() == "2026-07-20T14:00:00+00:00"
    assert vevent.decoded("DTEND").isoformat() == "2026-07-20T18:00:00+00:00"
    assert vevent["GEO"].latitude == 34.632 and vevent["GEO"].longitude == -120.611
    assert str(vevent["LOCATION"]) == "Space Launch Complex 4E, Vandenberg SFB, CA, USA"
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert str(vevent["URL"]).startswith("https://")  # the best of its webcasts
    text = str(vevent["DESCRIPTION"])
    for part in (
        "Status: Go for Launch",
        "Provider: SpaceX",
        "Rocket: Falcon 9",
        "Mission: Starlink Group 17-39",
        "Orbit: Low Earth Orbit",
        "Map: https://",
        "Watch:",
        "Launch Library 2 by The Space Devs",
    ):
        assert part in text, part


@pytest.mark.parametrize(
    ("query", "pick"),
    [
        ("agency=spacex", lambda x: x.provider_name == "SpaceX" and x.provider is not None),
        ("agency=casc", lambda x: (x.provider_name or "").startswith("China Aerospace Science")),
        ("rocket=falcon-9", lambda x: x.rocket == "Falcon 9"),
        ("rocket=Falcon 9 Block 5", lambda x: x.rocket_full_name == "Falcon 9 Block 5"),
        # A family, and a prefix of names ("Long March 3", "Long March 7A" in 2021 data).
        ("rocket=long-march", lambda x: (x.rocket or "").startswith("Long March")),
        ("exclude_rocket=falcon-9", lambda x: x.rocket != "Falcon 9"),
        ("status=go", lambda x: x.status is not None and x.status.id == 1),
        ("status=tbd,tbc", lambda x: x.status is not None and x.status.id in (2, 8)),
        ("exclude_status=go", lambda x: x.status is None or x.status.id != 1),
        ("pad=16", lambda x: x.pad is not None and x.pad.id == 16),
        ("pad=vandenberg", lambda x: "Vandenberg" in (x.location or "")),
        ("exclude_pad=vandenberg", lambda x: "Vandenberg" not in (x.location or "")),
        ("location=wenchang", lambda x: "Wenchang" in (x.location or "")),
        ("orbit=leo", lambda x: x.orbit_abbrev == "LEO"),
        ("orbit=geostationary-transfer-orbit", lambda x: x.orbit_abbrev == "GTO"),
        ("mission_type=communications", lambda x: x.mission_type == "Communications"),
        ("exclude_mission_type=unknown", lambda x: x.mission_type != "Unknown"),
        ("program=starlink", lambda x: any(p.slug == "starlink" for p in x.programs)),
        ("search=starlink", lambda x: "starlink" in x.name.lower()),
        ("webcast=1", lambda x: bool(x.videos)),
        ("vague=hide", lambda x: not x.precision.is_vague),
        (f"id={STARLINK}", lambda x: x.id == STARLINK),
        ("rocket=falcon&status=go&orbit=gto", lambda x: x.id.startswith("0f6780cf")),
    ],
)
def test_launch_filters_select_exactly_the_matching_launches(client, query, pick):
    expected = launch_uids(pick)
    assert expected, "the sample must hold a launch for this filter"
    assert uids(client, f"/launches.ics?{SINCE}&{query}") == expected


@pytest.mark.parametrize(
    ("ll2", "ours"),
    [
        ("lsp__name=SpaceX&status__ids=1", "agency=spacex&status=go"),
        ("lsp__id=121&mission__orbit__name=Low Earth Orbit", "agency=121&orbit=low-earth-orbit"),
        ("rocket__configuration__name=Falcon 9&net__gte=2021-01-01", "rocket=falcon-9"),
        ("rocket__configuration__full_name=Falcon 9 Block 5", "rocket=falcon-9-block-5"),
        ("net__gt=2021-12-12T00:00:00Z&net__lt=2021-12-20", "end=2021-12-19"),
    ],
)
def test_an_ll2_launches_query_string_pastes_into_a_feed_url(client, ll2, ours):
    since = "" if "net__gte" in ll2 else f"&{SINCE}"
    pasted = client.get(f"/launches.ics?{ll2}&mode=list&limit=10{since}")
    written = client.get(f"/launches.ics?{ours}&{SINCE}")
    assert pasted.status_code == written.status_code == 200, pasted.data[:200]
    assert Calendar.from_ical(pasted.data).walk("VEVENT"), "the filter must select something"
    if "net__gt" not in ll2:
        assert pasted.data == written.data


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=maybe", "status must be one of go, tbd, success, failure, hold"),
        ("rocket=---", "rocket needs a name"),
        ("include=rockets", "include takes events, launches or both"),
        ("id=not-a-uuid", "id takes event ids (whole numbers) or launch ids (UUIDs)"),
    ],
)
def test_bad_launch_queries_are_400_with_the_reason(client, query, message):
    response = client.get(f"/launches.ics?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    ["rocket=ariane-6", "rocket=new-glenn&orbit=mars", "rocket=falcon-8", "orbit=lunar-orbit"],
)
def test_a_rocket_not_flown_yet_is_an_empty_feed_not_an_error(client, query):
    """The snapshot holds recent launches only: a name it has not seen may be new, not
    wrong (ariane-6 is one letter from ariane-5), so the feed subscribes and stays empty."""
    cal = calendar(client, f"/launches.ics?{query}")
    assert cal.walk("VEVENT") == [] and "Spaceflight launches" in str(cal["X-WR-CALNAME"])


def test_the_json_says_which_names_no_launch_uses_yet(client):
    document = client.get("/launches.json?rocket=falcon-8,falcon-9&orbit=gtoo").get_json()
    assert document["notes"] == [
        "no listed launch has rocket 'falcon-8' yet (closest known: 'falcon-9')",
        "no listed launch has orbit 'gtoo' yet (closest known: 'gto')",
    ]
    assert document["launches"] == []  # falcon-9 and gtoo: AND across parameters
    assert "notes" not in client.get("/launches.json?rocket=falcon-9").get_json()


def test_alarms_only_on_timed_launches(client):
    vevents = calendar(client, f"/launches.ics?{SINCE}&alarm=30").walk("VEVENT")
    timed = [v for v in vevents if isinstance(v.decoded("DTSTART"), datetime)]
    assert timed and len(timed) < len(vevents)
    for vevent in vevents:
        alarms = vevent.walk("VALARM")
        assert len(alarms) == (1 if vevent in timed else 0)
        if alarms:
            assert alarms[0].decoded("TRIGGER") == -timedelta(minutes=30)


def test_vague_launch_is_tentative_all_day_and_says_net(client):
    (vevent,) = [
        v
        for v in calendar(client, f"/launches.ics?{SINCE}&status=tbd").walk("VEVENT")
        if "LOXSAT" in str(v["SUMMARY"])
    ]
    assert str(vevent["SUMMARY"]) == "NET July 2026: Electron | LOXSAT 1"
    assert str(vevent["STATUS"]) == "TENTATIVE"
    assert vevent["DTSTART"].params.get("VALUE") == "DATE"


def test_program_feeds_stay_events_only_unless_asked(client):
    events_only = uids(client, f"/programs/spacex-starship.ics?{SINCE}")
    assert events_only and all(u.startswith("ll2-event-") for u in events_only)
    both = uids(client, f"/programs/spacex-starship.ics?{SINCE}&include=events,launches")
    added = both - events_only
    assert added == launch_uids(lambda x: any(p.slug == "spacex-starship" for p in x.programs))
    assert added and events_only <= both
    only_launches = uids(client, f"/programs/spacex-starship.ics?{SINCE}&include=launches")
    assert only_launches == added


def test_feed_route_combines_by_default_and_follows_include(client):
    both = uids(client, f"/feed.ics?{SINCE}&agency=spacex")
    events = uids(client, f"/events.ics?{SINCE}&agency=spacex")
    launches = uids(client, f"/launches.ics?{SINCE}&agency=spacex")
    assert both == events | launches and events and launches
    assert uids(client, f"/feed.ics?{SINCE}&agency=spacex&include=events") == events
    assert uids(client, f"/events.ics?{SINCE}&agency=spacex&include=all") == both


def test_event_only_filters_leave_launches_out_and_negations_keep_them(client):
    docking = uids(client, f"/feed.ics?{SINCE}&type=docking")
    assert docking and all(u.startswith("ll2-event-") for u in docking)
    rockets = uids(client, f"/feed.ics?{SINCE}&rocket=falcon-9")
    assert rockets == launch_uids(lambda x: x.rocket == "Falcon 9")
    without = uids(client, f"/feed.ics?{SINCE}&exclude_type=docking")
    assert launch_uids(lambda x: True) <= without


def test_calendar_names_say_what_the_feed_holds(client):
    def name(url: str) -> str:
        return str(calendar(client, url)["X-WR-CALNAME"])

    assert name("/launches.ics?rocket=falcon-9") == "Spaceflight launches — Falcon 9"
    assert name("/feed.ics?program=spacex-starship") == (
        "Spaceflight events and launches — SpaceX Starship"
    )
    assert name("/events.ics?program=spacex-starship") == "Spaceflight events — SpaceX Starship"
    uid_events = str(calendar(client, "/events.ics")["UID"])
    uid_launches = str(calendar(client, "/launches.ics")["UID"])
    assert uid_events != uid_launches


def test_launch_json_has_the_fields_a_widget_needs(client):
    response = client.get(f"/launches.json?{SINCE}&id={STARLINK}")
    document = response.get_json()
    assert "events" not in document and document["count"] == 1
    (launch,) = document["launches"]
    assert launch["kind"] == "launch" and launch["uid"] == f"ll2-launch-{STARLINK}@icalfeed"
    assert launch["start"] == "2026-07-20T14:00:00Z" and launch["end"] == "2026-07-20T18:00:00Z"
    assert launch["net_utc"] == "2026-07-20T14:49:32Z" and launch["net"] is None
    assert launch["rocket"]["name"] == "Falcon 9" and launch["provider"]["abbrev"] == "SpX"
    assert launch["pad"]["latitude"] == 34.632 and launch["launch_status"]["abbrev"] == "Go"
    combined = client.get(f"/feed.json?{SINCE}&agency=spacex").get_json()
    assert combined["count"] == len(combined["events"]) + len(combined["launches"])


def test_launch_feeds_answer_conditional_requests(client):
    first = client.get(f"/launches.ics?{SINCE}")
    again = client.get(f"/launches.ics?{SINCE}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_a_pad_of_punctuation_only_is_400(client):
    response = client.get("/launches.ics?pad=-")
    assert response.status_code == 400
    assert "pad needs a pad id or name, got '-'" in response.get_data(as_text=True)
