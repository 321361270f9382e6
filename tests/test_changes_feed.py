"""The changes feeds (#34): what changed in a selection, seen by syncing a fake LL2 whose
launches move, change status, gain a webcast, appear and go away; as Atom read by a real
feed parser (feedparser) and checked against the Atom rules, and as JSON Feed."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import pytest
from fake_ll2 import FakeLL2
from flask.testing import FlaskClient
from ll2data import rebased_launches, upstream_events
from synctools import Clock, make_syncer

from icalfeed import create_app
from icalfeed.base.config import Settings
from icalfeed.base.errors import SnapshotError
from icalfeed.data import store as store_module
from icalfeed.data.changes import (
    KEPT_FOR,
    MAX_KEPT,
    MOVED,
    NEW,
    REMOVED,
    RESTORED,
    STATUS,
    WEBCAST,
    Change,
    changes_between,
    kept,
)
from icalfeed.data.snapshot import Snapshot
from icalfeed.data.store import Store
from icalfeed.ll2.models import parse_launches
from icalfeed.sync.passes import Syncer

START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STAMP = "%Y-%m-%dT%H:%M:%SZ"
ATOM = "http://www.w3.org/2005/Atom"


@pytest.fixture
def fake() -> FakeLL2:
    server = FakeLL2(upstream_events(), launches=rebased_launches(START)).start()
    yield server
    server.stop()


@pytest.fixture
def settings(tmp_path, fake) -> Settings:
    (tmp_path / "var").mkdir()
    return Settings(
        upstream_url=fake.base_url,
        data_dir=tmp_path / "var",
        connect_timeout=2,
        read_timeout=2,
        public_url="https://cal.example",
    )


def synced(settings: Settings) -> tuple[Clock, Syncer]:
    clock = Clock(START)
    syncer = make_syncer(settings, clock)
    assert syncer.run(force=True).backfill_complete
    return clock, syncer


def first_launch(fake: FakeLL2) -> dict[str, Any]:
    """The soonest upcoming launch of the fake (NET one day after START)."""
    upcoming = [x for x in fake.launches.values() if x["net"] > START.strftime(STAMP)]
    return min(upcoming, key=lambda x: x["net"])


def edit(fake: FakeLL2, syncer: Syncer, clock: Clock, launch_id: str, **fields: Any) -> None:
    """Change a launch upstream, let time pass, sync."""
    clock.advance(hours=2)
    changed = copy.deepcopy(fake.launches[launch_id])
    changed.update(fields, last_updated=clock.now.strftime(STAMP))
    fake.launches[launch_id] = changed
    assert syncer.run(force=True).ok


def client_of(settings: Settings, syncer: Syncer) -> FlaskClient:
    app = create_app(settings, start_sync=False)
    app.extensions["icalfeed"].store.clock = syncer.store.clock
    return app.test_client()


def atom(client: FlaskClient, query: str = "") -> feedparser.FeedParserDict:
    answer = client.get(f"/changes.atom{query}")
    assert answer.status_code == 200, answer.data
    assert answer.content_type == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(answer.data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    check_atom_rules(answer.data)
    return parsed


def check_atom_rules(body: bytes) -> None:
    """RFC 4287's musts that a parser forgives: the feed and each entry have exactly one
    id (an absolute IRI), title and updated (a date-time); the feed an author and a
    rel=self link; each entry a rel=alternate link; ids unique."""
    from xml.etree import ElementTree

    root = ElementTree.fromstring(body)
    assert root.tag == f"{{{ATOM}}}feed"
    date_time = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$")

    def one(parent: ElementTree.Element, tag: str) -> str:
        found = parent.findall(f"{{{ATOM}}}{tag}")
        assert len(found) == 1, (tag, len(found))
        return found[0].text or ""

    ids = [one(root, "id")]
    assert one(root, "title")
    assert date_time.match(one(root, "updated"))
    assert root.findall(f"{{{ATOM}}}author/{{{ATOM}}}name")
    rels = [link.get("rel") for link in root.findall(f"{{{ATOM}}}link")]
    assert rels.count("self") == 1
    for entry in root.findall(f"{{{ATOM}}}entry"):
        ids.append(one(entry, "id"))
        assert one(entry, "title")
        assert date_time.match(one(entry, "updated"))
        links = entry.findall(f"{{{ATOM}}}link")
        alternate = [x.get("href") for x in links if x.get("rel", "alternate") == "alternate"]
        assert len(alternate) == 1 and alternate[0].startswith("https://cal.example/")
    assert all(i.startswith("urn:uuid:") for i in ids)
    assert len(set(ids)) == len(ids)


# --------------------------------------------------------------------------- end to end


def test_a_launch_moved_twice_upstream_is_two_entries_newest_first(settings, fake):
    clock, syncer = synced(settings)
    launch = first_launch(fake)
    nets = ["2026-12-03T15:30:00Z", "2026-12-05T09:10:00Z"]
    edit(fake, syncer, clock, launch["id"], net=nets[0], window_start=nets[0], window_end=nets[0])
    edit(fake, syncer, clock, launch["id"], net=nets[1], window_start=nets[1], window_end=nets[1])
    feed = atom(client_of(settings, syncer))

    moves = [e for e in feed.entries if e.tags[0].term == MOVED]
    assert len(moves) == 2
    newest, older = moves
    assert "5 Dec 2026 09:10 UTC" in newest.title and "3 Dec 2026 15:30 UTC" in older.title
    assert "from 3 Dec 2026 15:30 UTC to 5 Dec 2026 09:10 UTC" in newest.summary
    assert newest.updated_parsed > older.updated_parsed  # newest first, `updated` = seen
    assert newest.updated == (START + timedelta(hours=4)).strftime(STAMP)
    assert newest.link == f"https://cal.example/launches/{launch['id']}"
    assert feed.feed.updated == newest.updated
    assert feed.feed.links[0].href.startswith("https://cal.example/changes.atom")


def test_status_webcast_new_removed_and_back_each_make_one_entry(settings, fake):
    clock, syncer = synced(settings)
    launch = first_launch(fake)
    assert syncer.store.snapshot.changes == ()  # the first full read is no news
    edit(fake, syncer, clock, launch["id"], status={"id": 5, "name": "On Hold", "abbrev": "Hold"})
    video = {"priority": 10, "title": "Live", "url": "https://video.example/live", "type": None}
    edit(fake, syncer, clock, launch["id"], vid_urls=[video], vidURLs=[video])
    newcomer = copy.deepcopy(launch)
    newcomer.update(id="11111111-2222-4333-8444-555555555555", slug="brand-new", name="Brand New")
    clock.advance(hours=2)
    newcomer["last_updated"] = clock.now.strftime(STAMP)
    fake.launches[newcomer["id"]] = newcomer
    assert syncer.run(force=True).ok
    clock.advance(hours=2)
    gone = fake.launches.pop(newcomer["id"])
    assert syncer.run(force=True).ok
    clock.advance(hours=2)
    gone["last_updated"] = clock.now.strftime(STAMP)
    fake.launches[gone["id"]] = gone
    assert syncer.run(force=True).ok

    whats = [c.what for c in syncer.store.snapshot.changes]
    assert whats == [RESTORED, REMOVED, NEW, WEBCAST, STATUS]
    feed = atom(client_of(settings, syncer))
    titles = [e.title for e in feed.entries]
    assert titles[0].startswith("Back: ") and titles[1].startswith("Removed: ")
    assert titles[2].startswith("New: ")
    assert [e.link.rsplit("/", 1)[1] for e in feed.entries[:3]] == [newcomer["id"]] * 3
    assert "https://video.example/live" in feed.entries[3].summary
    status = feed.entries[4]
    assert status.title.startswith("On Hold: ")
    assert f"from {launch['status']['name']} to On Hold" in status.summary


def test_entries_keep_their_ids_through_a_restart_and_on_every_instance(settings, fake):
    clock, syncer = synced(settings)
    launch = first_launch(fake)
    edit(fake, syncer, clock, launch["id"], net="2026-12-03T15:30:00Z")
    first = atom(client_of(settings, syncer))
    again = atom(client_of(settings, syncer))  # another process reading the same data dir
    assert [e.id for e in first.entries] == [e.id for e in again.entries]
    restored = Store(settings).load()
    assert restored.changes == syncer.store.snapshot.changes


def test_the_changes_follow_the_feeds_filters(settings, fake):
    clock, syncer = synced(settings)
    launch = first_launch(fake)
    edit(fake, syncer, clock, launch["id"], net="2026-12-03T15:30:00Z")
    client = client_of(settings, syncer)
    provider = launch["launch_service_provider"]["name"]
    assert len(atom(client, f"?agency={provider}").entries) == 1
    assert atom(client, "?include=events").entries == []
    assert atom(client, "?search=no-such-mission-anywhere").entries == []
    assert len(atom(client, "?include=launches").entries) == 1
    shared = client.get("/changes.atom?utm_source=x&fbclid=abc")
    assert shared.data == client.get("/changes.atom").data
    unknown = client.get("/changes.atom?agnecy=spacex")
    assert unknown.status_code == 400 and b"agnecy" in unknown.data


def test_the_json_feed_says_the_same(settings, fake):
    clock, syncer = synced(settings)
    launch = first_launch(fake)
    edit(fake, syncer, clock, launch["id"], net="2026-12-03T15:30:00Z")
    client = client_of(settings, syncer)
    answer = client.get("/changes.json")
    assert answer.content_type == "application/json"
    document = json.loads(answer.data)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["feed_url"] == "https://cal.example/changes.json"
    (item,) = document["items"]
    assert item["id"] == atom(client).entries[0].id
    assert item["url"] == f"https://cal.example/launches/{launch['id']}"
    facts = item["_icalfeed"]
    assert facts["change"] == MOVED and facts["kind"] == "launch"
    assert facts["now"] == {"start": "2026-12-03T15:30:00Z", "precision": "second"}
    assert facts["calendar"] == f"https://cal.example/launches/{launch['id']}.ics"
    assert item["date_published"] == (START + timedelta(hours=2)).strftime(STAMP)


def test_changes_feeds_are_conditional_and_answer_head(settings, fake):
    clock, syncer = synced(settings)
    edit(fake, syncer, clock, first_launch(fake)["id"], net="2026-12-03T15:30:00Z")
    client = client_of(settings, syncer)
    for path in ("/changes.atom", "/changes.json?agency=spacex"):
        first = client.get(path)
        assert first.headers["ETag"] and first.headers["Cache-Control"].startswith("public")
        assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
        head = client.head(path)
        assert head.status_code == 200 and head.data == b""
        assert client.get(path).data == first.data  # no "now" in it


def test_links_follow_the_host_without_a_public_url(settings, fake):
    clock, syncer = synced(settings)
    edit(fake, syncer, clock, first_launch(fake)["id"], net="2026-12-03T15:30:00Z")
    client = client_of(replace(settings, public_url=None), syncer)
    one = feedparser.parse(client.get("/changes.atom", base_url="http://one.example").data)
    two = feedparser.parse(client.get("/changes.atom", base_url="http://two.example").data)
    assert one.entries[0].link.startswith("http://one.example/launches/")
    assert two.entries[0].link.startswith("http://two.example/launches/")


def test_no_data_at_all_is_503_and_hostile_text_is_never_a_5xx(tmp_path, monkeypatch):
    def broken():
        raise SnapshotError("no sample")

    with monkeypatch.context() as patched:
        patched.setattr(store_module, "load_sample", broken)
        empty = create_app(Settings(data_dir=tmp_path / "none", offline=True), start_sync=False)
    for path in (
        "/changes.atom",
        "/launches/e1079d3a-c0a6-4b42-bc1d-92e48a5a78fc",
        "/launches/e1079d3a-c0a6-4b42-bc1d-92e48a5a78fc.ics",
        "/events/1327",
    ):  # nothing known yet is not "no such item"
        answer = empty.test_client().get(path)
        assert answer.status_code == 503 and int(answer.headers["Retry-After"]) > 0, path
    client = create_app(Settings(data_dir=tmp_path / "var", offline=True)).test_client()
    for query in ("?search=%3Cscript%3E", "?agency=%00", "?start=9999-99-99", "?x=" + "y" * 5000):
        for path in ("/changes.atom", "/changes.json"):
            assert client.get(path + query).status_code < 500


# ------------------------------------------------------------------- the log and its rules


def launch_item(**fields: Any):
    raw = copy.deepcopy(rebased_launches(START)[0])
    raw.update(fields)
    ((item, _),) = parse_launches([raw]).items
    return item


def test_what_counts_as_news():
    now = START
    old = launch_item()
    assert changes_between(None, old, now) == []  # read, not news
    (new,) = changes_between(None, old, now, news=True)
    assert new.what == NEW and new.now.start == old.start
    past = launch_item(net="2020-01-01T00:00:00Z")
    assert changes_between(None, past, now, news=True) == []  # history being read
    assert changes_between(old, old, now) == []
    moved = launch_item(net="2027-03-01T10:00:00Z")
    (change,) = changes_between(old, moved, now)
    assert (change.what, change.was.start, change.now.start) == (MOVED, old.start, moved.start)
    back = changes_between(old, old, now, removed=True)
    assert [c.what for c in back] == [RESTORED]


def test_the_log_is_bounded_by_age_and_count():
    now = START
    old = Change("launch:x", NEW, now - KEPT_FOR - timedelta(seconds=1))
    recent = [Change(f"launch:{n}", NEW, now - timedelta(minutes=n)) for n in range(MAX_KEPT + 9)]
    log = kept([old, *reversed(recent)], now)
    assert len(log) == MAX_KEPT and old not in log
    assert [c.seen for c in log] == sorted((c.seen for c in log), reverse=True)


def test_an_old_snapshot_without_a_log_loads_and_a_damaged_change_is_skipped():
    snapshot = Snapshot({})
    text = snapshot.to_text()
    assert '"changes":[]' in text
    data = json.loads(text)
    data["changes"] = [{"key": "launch:x", "what": "exploded", "seen": "2026-01-01T00:00:00Z"}, 5]
    assert Snapshot.from_json(data, "snapshot").changes == ()
    del data["changes"]
    assert Snapshot.from_json(data, "snapshot").changes == ()


def test_hostile_names_stay_text_in_a_well_formed_feed(settings, fake):
    clock, syncer = synced(settings)
    launch = first_launch(fake)
    hostile = "<script>alert(1)</script> ]]> &amp; \x01\x0b\ufffe end"
    mission = dict(launch["mission"], name=hostile)
    net = "2026-12-03T15:30:00Z"
    edit(fake, syncer, clock, launch["id"], name=hostile, mission=mission, net=net)
    client = client_of(settings, syncer)
    body = client.get("/changes.atom").data
    assert b"<script>" not in body and b"&lt;script&gt;" in body
    entry = atom(client).entries[0]
    assert "<script>alert(1)</script> ]]> &amp;" in entry.title
    json_title = json.loads(client.get("/changes.json").data)["items"][0]["title"]
    assert "<script>alert(1)</script>" in json_title


def test_the_offline_sample_says_why_its_changes_feed_is_empty(tmp_path):
    client = create_app(Settings(data_dir=tmp_path / "var", offline=True)).test_client()
    parsed = feedparser.parse(client.get("/changes.atom").data)
    assert not parsed.bozo and parsed.entries == []
    assert parsed.feed.subtitle.startswith("What changed in Spaceflight events and launches: ")
    assert parsed.feed.subtitle.endswith(
        " This is the packaged sample (offline): changes are seen, and listed here, "
        "once icalfeed syncs with Launch Library 2."
    )
    assert "packaged sample" in json.loads(client.get("/changes.json").data)["description"]


def test_a_launch_moved_twice_is_rescheduled_on_its_page_and_its_calendar_follows(settings, fake):
    """The issue's case end to end: two moves upstream are two change entries linking to the
    launch's page, which says EventRescheduled; its one-item calendar's SEQUENCE rose."""
    from icalendar import Calendar

    clock, syncer = synced(settings)
    launch = first_launch(fake)
    path = f"/launches/{launch['id']}"

    def own_calendar(client: FlaskClient) -> Any:
        (vevent,) = Calendar.from_ical(client.get(f"{path}.ics").data).walk("VEVENT")
        return vevent

    before = own_calendar(client_of(settings, syncer))
    for net in ("2026-12-03T15:30:00Z", "2026-12-05T09:10:00Z"):
        edit(fake, syncer, clock, launch["id"], net=net, window_start=net, window_end=net)
    client = client_of(settings, syncer)
    entries = [e for e in atom(client).entries if e.tags[0].term == MOVED]
    assert [e.link for e in entries] == [f"https://cal.example{path}"] * 2
    after = own_calendar(client)
    assert after["UID"] == before["UID"] == f"ll2-launch-{launch['id']}@icalfeed"
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after.decoded("DTSTART") == datetime(2026, 12, 5, 9, 10, tzinfo=UTC)
    page = client.get(path).data.decode()
    (block,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    described = json.loads(block)
    assert described["eventStatus"] == "https://schema.org/EventRescheduled"
    assert described["startDate"] == "2026-12-05T09:10:00Z"
    # The page offers this launch's own changes feed: the same two entries.
    (own,) = re.findall(r'id="item-changes-atom" href="([^"]+)"', page)
    own = own.replace("&amp;", "&").removeprefix("https://cal.example")
    followed = atom(client, own.removeprefix("/changes.atom"))
    assert [e.id for e in followed.entries] == [e.id for e in entries]
    # Named after the launch, linking to its page and its own calendar.
    assert followed.feed.title.endswith(": changes") and launch["name"] not in ("", None)
    assert followed.feed.title != "Spaceflight launches: changes"
    links = {(x.rel, x.type): x.href for x in followed.feed.links}
    assert links[("alternate", "text/html")] == f"https://cal.example{path}"
    assert links[("related", "text/calendar")] == f"https://cal.example{path}.ics"


def test_two_real_servers_on_one_data_dir_serve_the_same_changes(settings, fake, tmp_path):
    """As operators run it: `icalfeed serve` processes (waitress, real sockets) sharing the
    data dir a sync wrote: the same entries from each, and the item's page, calendar and
    changes feed answer HEAD, 304 and gzip over the wire."""
    import gzip
    import http.client

    from servers import serve_offline

    clock, syncer = synced(settings)
    launch = first_launch(fake)
    edit(fake, syncer, clock, launch["id"], net="2026-12-03T15:30:00Z")
    servers = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        servers.append(
            serve_offline(
                tmp_path / name,
                ICALFEED_DATA_DIR=str(settings.data_dir),
                ICALFEED_PUBLIC_URL="https://cal.example",
            )
        )
    try:

        def ask(port: int, method: str, path: str, **headers: str) -> http.client.HTTPResponse:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request(method, path, headers=headers)
            answer = connection.getresponse()
            answer.body = answer.read()  # type: ignore[attr-defined]
            connection.close()
            return answer

        seen = []
        for _, port, _ in servers:
            answer = ask(port, "GET", "/changes.atom")
            assert answer.status == 200
            parsed = feedparser.parse(answer.body)
            assert not parsed.bozo
            seen.append([(e.id, e.updated, e.title) for e in parsed.entries])
        assert seen[0] == seen[1] and len(seen[0]) == 1

        port = servers[1][1]
        for path in (f"/launches/{launch['id']}", f"/launches/{launch['id']}.ics", "/changes.json"):
            full = ask(port, "GET", path)
            assert full.status == 200, path
            head = ask(port, "HEAD", path)
            assert head.status == 200 and head.body == b"" and head.getheader("ETag")
            again = ask(port, "GET", path, **{"If-None-Match": full.getheader("ETag")})
            assert again.status == 304 and again.body == b"", path
        zipped = ask(port, "GET", "/changes.atom", **{"Accept-Encoding": "gzip"})
        assert zipped.getheader("Content-Encoding") == "gzip"
        assert feedparser.parse(gzip.decompress(zipped.body)).entries[0].id == seen[0][0][0]
    finally:
        for process, _, _ in servers:
            process.terminate()
            process.wait(10)
