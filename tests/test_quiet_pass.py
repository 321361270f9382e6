"""A quiet changes pass costs one request, whatever happened before it (#31): after LL2
bulk-edited more than a page of items in one second, every pass used to re-read that whole
second, in id order (5 requests a pass, 15 an hour for the event changes alone)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from conftest import settings_against
from fake_ll2 import FakeLL2
from synctools import Clock, make_syncer

from icalfeed.data.snapshot import Snapshot
from icalfeed.ll2.models import Event

START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STAMP = "%Y-%m-%dT%H:%M:%SZ"


def _same_as_upstream(snapshot: Snapshot, fake: FakeLL2) -> None:
    assert set(snapshot.entries) == {f"event:{i}" for i in fake.events}
    for event_id, raw in fake.events.items():
        assert snapshot.entries[f"event:{event_id}"].item == Event.from_ll2(raw), event_id


def _changes_requests(fake: FakeLL2, since: int) -> list[dict[str, str]]:
    """The changes listing's requests (not the upcoming window's) from request `since` on."""
    return [r.params for r in fake.requests[since:] if r.path == "/2.3.0/events/"]


def _bulk_edit(fake: FakeLL2, ids: list[int], moment: datetime) -> None:
    for event_id in ids:
        event = copy.deepcopy(fake.events[event_id])
        event.update(name=f"{event['name']} (bulk)", last_updated=moment.strftime(STAMP))
        fake.events[event_id] = event


def _synced(fake: FakeLL2, tmp_path, clock: Clock):
    syncer = make_syncer(settings_against(fake, tmp_path / "var"), clock)
    for _ in range(12):  # the backfill first (spare requests), then the cadence
        assert syncer.run().error is None
        clock.advance(minutes=21)
        if syncer.store.snapshot.sync().backfill_complete:
            return syncer
    raise AssertionError("backfill not complete")


def test_a_quiet_pass_after_a_bulk_edit_costs_one_request(fake_ll2, tmp_path):
    clock = Clock(START)
    syncer = _synced(fake_ll2, tmp_path, clock)
    bulk = sorted(fake_ll2.events)[:150]  # more than a page, all in one second
    assert len(fake_ll2.events) > len(bulk) > 100
    bulk_second = clock.now - timedelta(minutes=5)
    _bulk_edit(fake_ll2, bulk, bulk_second)
    assert syncer.run().ok  # reads the bulk edit (in id order, by offset)
    _same_as_upstream(syncer.store.snapshot, fake_ll2)
    per_pass = []
    for _ in range(9):  # three hours at the 20-minute cadence, nothing changing
        clock.advance(minutes=21)
        mark = len(fake_ll2.requests)
        assert syncer.run().ok
        per_pass.append(len(_changes_requests(fake_ll2, mark)))
    assert per_pass == [1] * 9
    # And a pass that has something to read still reads it: an edit of a bulk-edited item,
    # an edit of another one, and one visible late just below the mark.
    clock.advance(minutes=21)
    edited = copy.deepcopy(fake_ll2.events[bulk[3]])
    edited.update(name="Edited again", last_updated=clock.now.strftime(STAMP))
    fake_ll2.events[bulk[3]] = edited
    other = sorted(fake_ll2.events)[-1]
    late = copy.deepcopy(fake_ll2.events[other])
    # Stamped below the mark, where the newest-first page does not reach: LL2's count
    # tells that it joined the overlap.
    below_mark = (bulk_second - timedelta(minutes=2)).strftime(STAMP)
    late.update(name="Visible late", last_updated=below_mark)
    fake_ll2.events[other] = late
    mark = len(fake_ll2.requests)
    assert syncer.run().ok
    _same_as_upstream(syncer.store.snapshot, fake_ll2)
    assert len(_changes_requests(fake_ll2, mark)) <= 6
    clock.advance(minutes=21)
    mark = len(fake_ll2.requests)
    assert syncer.run().ok
    assert len(_changes_requests(fake_ll2, mark)) == 1  # quiet again


def test_an_edit_below_the_probe_page_falls_back_to_the_walk(fake_ll2, tmp_path):
    """A page of newer edits above the bulk second: the newest-first page does not reach
    the mark, so the pass walks as ever and misses nothing."""
    clock = Clock(START)
    syncer = _synced(fake_ll2, tmp_path, clock)
    ids = sorted(fake_ll2.events)
    _bulk_edit(fake_ll2, ids[:150], clock.now - timedelta(minutes=5))
    assert syncer.run().ok
    clock.advance(minutes=21)
    for position, event_id in enumerate(ids[150:]):  # > a page of edits, one a second
        _bulk_edit(fake_ll2, [event_id], clock.now - timedelta(minutes=4, seconds=-position))
    assert len(ids[150:]) > 100
    for _ in range(4):  # more than the hour's budget: it goes on an hour later
        assert syncer.run().error is None
        clock.advance(hours=1, seconds=1)
    _same_as_upstream(syncer.store.snapshot, fake_ll2)
