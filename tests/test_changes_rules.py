"""The changes log's rules and the changes feeds' exact form (#34), without a server: what
counts as a change and its bounds, the log's file form, the words, and the Atom and JSON
Feed documents of a snapshot holding every kind of change, byte for byte against the
reviewed copies in tests/data/changes/ (`REGEN_GOLDEN=1` writes them anew)."""

from __future__ import annotations

import copy
import json
import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import feedparser
from itemdata import HELD, MOVED, NOW, PLAIN, REMOVED, ROLLOUT, VAGUE, item_snapshot, raw_launches

from icalfeed.data import changes
from icalfeed.data.changes import (
    KEPT_FOR,
    NEW,
    NEWS_MARGIN,
    RESTORED,
    STATUS,
    Change,
    Dated,
    changes_between,
    kept,
)
from icalfeed.data.changes import (
    REMOVED as REMOVED_CHANGE,
)
from icalfeed.data.snapshot import Snapshot
from icalfeed.feeds.changefeeds import render_changes
from icalfeed.feeds.changelog import MAX_SHOWN, FeedLinks, news_of, one_item, selected_news
from icalfeed.feeds.query import EVERYTHING, FeedQuery
from icalfeed.feeds.select import feed_day
from icalfeed.ll2.models import Precision, parse_launches

GOLDEN = Path(__file__).parent / "data" / "changes"
LINKS = FeedLinks(
    base="https://cal.example",
    atom="https://cal.example/changes.atom",
    json="https://cal.example/changes.json",
    home="https://cal.example/?include=events,launches",
    calendar="https://cal.example/feed.ics",
)
DAY = feed_day(NOW)


def launch(launch_id: str, **fields):
    raw = copy.deepcopy(raw_launches()[launch_id])
    raw.update(fields)
    ((item, _),) = parse_launches([raw]).items
    return item


def every_kind_of_change() -> Snapshot:
    """The item pages' snapshot (MRV-1 moved twice, one launch removed), then: a status
    change, a webcast added, a new launch, and the removed one back."""
    snapshot = item_snapshot()
    stamp = (NOW - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    raws = raw_launches()
    held = copy.deepcopy(raws[PLAIN])
    held.update(status={"id": 5, "name": "On Hold", "abbrev": "Hold"}, last_updated=stamp)
    snapshot, _ = snapshot.merge(parse_launches([held]).items, NOW - timedelta(hours=4))
    vague = copy.deepcopy(raws[VAGUE])
    vague.update(
        vid_urls=[{"url": "https://video.example/gravity", "priority": 1}], last_updated=stamp
    )
    snapshot, _ = snapshot.merge(parse_launches([vague]).items, NOW - timedelta(hours=3))
    snapshot = snapshot.with_sync("launch", reconciled_at=NOW, backfill_complete=True)
    newcomer = copy.deepcopy(raws[HELD])
    newcomer.update(id="11111111-2222-4333-8444-555555555555", last_updated=stamp)
    snapshot, _ = snapshot.merge(
        parse_launches([newcomer]).items, NOW - timedelta(hours=2), news=True
    )
    back = copy.deepcopy(raws[REMOVED])
    back["last_updated"] = stamp
    snapshot, _ = snapshot.merge(parse_launches([back]).items, NOW - timedelta(hours=1))
    return snapshot


def golden(name: str, body: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("REGEN_GOLDEN"):
        path.write_bytes(body)
    assert body.decode() == path.read_text(encoding="utf-8")


def test_the_changes_feeds_are_exactly_the_reviewed_documents():
    snapshot = every_kind_of_change()
    whats = [c.what for c in snapshot.changes]
    assert whats == [RESTORED, NEW, "webcast", STATUS, "removed", "moved", "moved", "removed"]
    query = FeedQuery.from_string("start=1957-01-01", snapshot.catalog, EVERYTHING)
    atom = render_changes("atom", snapshot, query, DAY, LINKS)
    document = render_changes("json", snapshot, query, DAY, LINKS)
    golden("every-kind.atom", atom.body)
    golden("every-kind.json", document.body)
    parsed = feedparser.parse(atom.body)
    assert not parsed.bozo and len(parsed.entries) == 7  # the pruned launch's removal is gone
    assert atom.filename == "changes.atom" and document.filename == "changes.json"
    assert atom.title == "Spaceflight events and launches: changes"
    assert atom.changed_at == max(snapshot.changed_at or DAY, DAY)


def test_an_empty_selection_is_dated_by_the_data_not_the_clock():
    snapshot = replace(every_kind_of_change(), changed_at=NOW - timedelta(days=2))
    query = FeedQuery.from_string("search=nothing-matches-this", snapshot.catalog, EVERYTHING)
    parsed = feedparser.parse(render_changes("atom", snapshot, query, DAY, LINKS).body)
    assert parsed.entries == [] and parsed.feed.updated == DAY.strftime("%Y-%m-%dT%H:%M:%SZ")
    later = replace(snapshot, changed_at=NOW)
    parsed = feedparser.parse(render_changes("atom", later, query, DAY, LINKS).body)
    assert parsed.feed.updated == NOW.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_one_item_named_by_its_id_names_its_feed():
    snapshot = every_kind_of_change()
    for text, key in (
        (f"id={MOVED}&include=launches", f"launch:{MOVED}"),
        (f"id={ROLLOUT}", f"event:{ROLLOUT}"),
    ):
        query = FeedQuery.from_string(text, snapshot.catalog, EVERYTHING)
        assert one_item(snapshot, query) is snapshot.entries[key]
    two = FeedQuery.from_string(f"id={MOVED},{PLAIN}", snapshot.catalog, EVERYTHING)
    assert one_item(snapshot, two) is None
    query = FeedQuery.from_string(f"id={MOVED}&include=launches", snapshot.catalog, EVERYTHING)
    title = render_changes("atom", snapshot, query, DAY, LINKS).title
    assert title == "Falcon 9 | MRV-1: changes"


def test_the_newest_200_of_the_last_30_days_are_shown():
    snapshot = every_kind_of_change()
    key = f"launch:{PLAIN}"
    many = [Change(key, STATUS, NOW - timedelta(minutes=n), after=f"s{n}") for n in range(250)]
    old = Change(key, STATUS, DAY - KEPT_FOR, after="too old")
    crowded = replace(snapshot, changes=(*many, old))
    query = FeedQuery.from_string("", crowded.catalog, EVERYTHING)
    shown = selected_news(crowded, query, DAY)
    assert len(shown) == MAX_SHOWN and shown[0].change.after == "s0"
    aged = replace(snapshot, changes=(many[0], old))
    assert [n.change.after for n in selected_news(aged, query, DAY)] == ["s0"]


def test_the_words_of_each_change():
    snapshot = every_kind_of_change()
    entry = snapshot.entries[f"launch:{PLAIN}"]
    name = news_of(Change(entry.item.key, STATUS, NOW, after="Go"), entry)
    assert name.title.startswith("Go: ") and name.summary.endswith(": status changed to Go.")
    bare_new = news_of(Change(entry.item.key, NEW, NOW), entry)
    assert bare_new.summary == f"New on Launch Library 2: {bare_new.meaning.name}."
    back = news_of(Change(entry.item.key, RESTORED, NOW), entry)
    assert back.summary.endswith("is listed again on Launch Library 2.")
    dated = news_of(Change(entry.item.key, RESTORED, NOW, now=Dated(NOW, Precision.DAY)), entry)
    assert dated.summary.endswith("is listed again on Launch Library 2, 1 Dec 2026.")


# ------------------------------------------------------------------------- the log itself


def test_news_begins_a_day_back_and_the_log_keeps_30_days():
    edge = launch(PLAIN, net=(NOW - NEWS_MARGIN).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert [c.what for c in changes_between(None, edge, NOW, news=True)] == [NEW]
    exactly = Change("launch:x", NEW, NOW - KEPT_FOR)
    inside = Change("launch:y", NEW, NOW - KEPT_FOR + timedelta(seconds=1))
    assert kept([exactly, inside], NOW) == (inside,)


def test_a_first_status_a_removal_and_a_return_carry_their_facts():
    unknown = launch(PLAIN, status=None)
    (first,) = changes_between(unknown, launch(PLAIN), NOW)
    assert (first.what, first.before, first.after) == (STATUS, None, "Go for Launch")
    item = launch(PLAIN)
    (back,) = changes_between(item, item, NOW, removed=True)
    assert back.now == Dated(item.start, item.precision)
    gone = changes.removal(item, NOW)
    assert (gone.what, gone.now) == (REMOVED_CHANGE, Dated(item.start, item.precision))


def test_the_file_form_round_trips_and_refuses_what_it_cannot_read():
    moved = Change(
        "launch:a", "moved", NOW, Dated(NOW, Precision.DAY), Dated(NOW, Precision.SECOND)
    )
    status = Change("launch:a", STATUS, NOW, before="TBD", after="Go")
    for change in (moved, status, Change("event:1", NEW, NOW)):
        raw = change.to_json()
        assert len(raw) == 9 and raw[0] == change.key and raw[2] == NOW.isoformat()
        assert Change.from_json(json.loads(json.dumps(raw))) == change
    assert moved.to_json()[3:7] == [NOW.isoformat(), "DAY", NOW.isoformat(), "SECOND"]
    assert status.to_json()[3:] == [None, None, None, None, "TBD", "Go"]
    good = status.to_json()
    for position, bad in ((0, ""), (0, 5), (1, "exploded"), (2, None), (2, "yesterday")):
        broken = list(good)
        broken[position] = bad
        assert Change.from_json(broken) is None, (position, bad)
    odd = list(good)
    odd[7], odd[8] = 5, ["x"]
    assert Change.from_json(odd) == replace(status, before=None, after=None)
    elsewhere = list(moved.to_json())
    elsewhere[2] = "2026-12-01T11:00:00+02:00"
    elsewhere[4] = "FORTNIGHT"
    read = Change.from_json(elsewhere)
    assert read.seen == NOW and read.was.precision is Precision.UNKNOWN
    assert Change.from_json(good[:8]) is None and Change.from_json({"key": "x"}) is None


def test_text_xml_cannot_carry_is_dropped_from_the_atom():
    snapshot = every_kind_of_change()
    key = f"launch:{PLAIN}"
    odd = Change(key, "webcast", NOW, after="https://video.example/a\x01b\x0bc")
    query = FeedQuery.from_string("", snapshot.catalog, EVERYTHING)
    links = replace(LINKS, base="https://cal.example\x0c")
    body = render_changes("atom", replace(snapshot, changes=(odd,)), query, DAY, links).body
    parsed = feedparser.parse(body)
    assert not parsed.bozo
    (entry,) = parsed.entries
    assert entry.summary.endswith(": https://video.example/abc")
    assert entry.link == f"https://cal.example/launches/{PLAIN}"


def test_a_never_saved_snapshot_is_dated_by_the_day():
    snapshot = replace(every_kind_of_change(), changed_at=None, changes=())
    query = FeedQuery.from_string("", snapshot.catalog, EVERYTHING)
    parsed = feedparser.parse(render_changes("atom", snapshot, query, DAY, LINKS).body)
    assert parsed.feed.updated == DAY.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_stamps_are_utc_whatever_the_machines_zone(monkeypatch):
    import time

    snapshot = every_kind_of_change()
    query = FeedQuery.from_string("start=1957-01-01", snapshot.catalog, EVERYTHING)
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        body = render_changes("atom", snapshot, query, DAY, LINKS).body
    finally:
        monkeypatch.undo()
        time.tzset()
    assert body == (GOLDEN / "every-kind.atom").read_bytes()
