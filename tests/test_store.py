"""Persistence: atomic writes, damaged files, the packaged sample, a refusing disk."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from ll2data import upstream_events

from icalfeed.base.errors import SnapshotError
from icalfeed.data import snapshot as snapshot_module
from icalfeed.data import store as store_module
from icalfeed.data.snapshot import Snapshot
from icalfeed.data.store import Store, load_sample, read_snapshot, write_snapshot
from icalfeed.ll2.models import parse_events

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def synced(count: int = 50) -> Snapshot:
    snapshot, _ = Snapshot({}, source="snapshot").merge(
        parse_events(upstream_events()[:count]).items, NOW
    )
    return snapshot


def test_snapshot_round_trips_through_disk(tmp_path):
    original = synced()
    write_snapshot(tmp_path / "s.json", original)
    loaded = read_snapshot(tmp_path / "s.json")
    assert loaded.version == original.version
    assert loaded.entries.keys() == original.entries.keys()


def test_a_load_keeps_each_record_as_the_file_spells_it(tmp_path, monkeypatch):
    """Loading does not encode the records again (a third of a start at LL2's size): the
    entries come back byte for byte, and a save of what was loaded is the same file."""
    original = synced()
    write_snapshot(tmp_path / "s.json", original)
    encoded = []
    real = snapshot_module._compact
    monkeypatch.setattr(snapshot_module, "_compact", lambda v: encoded.append(v) or real(v))
    loaded = read_snapshot(tmp_path / "s.json")
    assert not [v for v in encoded if isinstance(v, dict)]  # no record was encoded again
    for key, entry in original.entries.items():
        again = loaded.entries[key]
        assert (again.stored, again.record_end, again.digest) == (
            entry.stored,
            entry.record_end,
            entry.digest,
        )
    assert loaded.to_text() == (tmp_path / "s.json").read_text()


@pytest.mark.parametrize("layout", ["indented", "nested kinds", "reordered"])
def test_a_snapshot_written_otherwise_loads_the_same(tmp_path, layout):
    """A file laid out differently (by hand, by another tool), or a record that happens to
    hold the text that separates entries, is read through the decoded records instead."""
    original = synced(20)
    data = original.to_json()
    if layout == "nested kinds":  # a record holding '},{"kind":"' in its own JSON
        data["entries"][0]["ll2"]["extra"] = [{"kind": "a"}, {"kind": "b"}]
    text = {
        "indented": json.dumps(data, indent=2),
        "nested kinds": json.dumps(data, separators=(",", ":")),
        "reordered": json.dumps(dict(reversed(list(data.items())))),
    }[layout]
    (tmp_path / "s.json").write_text(text)
    loaded = read_snapshot(tmp_path / "s.json")
    expected = Snapshot.from_json(json.loads(text), "snapshot")
    assert loaded.version == expected.version
    assert loaded.entries.keys() == original.entries.keys()
    for key, entry in expected.entries.items():
        assert loaded.entries[key].stored == entry.stored
        assert loaded.entries[key].record == entry.record


def test_crash_between_write_and_rename_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "snapshot.json"
    write_snapshot(path, synced(10))
    old_bytes = path.read_bytes()

    class Crash(BaseException):
        pass

    def crash(tmp, final):
        raise Crash

    monkeypatch.setattr(store_module, "_before_rename", crash)
    with pytest.raises(Crash):
        write_snapshot(path, synced(60))
    assert path.read_bytes() == old_bytes
    assert len(read_snapshot(path).entries) == 10


def test_damaged_snapshot_is_moved_aside_and_the_sample_served(settings, caplog):
    settings.data_dir.mkdir(parents=True)
    damaged = b'{"format": "icalfeed-snapshot/1", "entries": [{"ll2": '
    (settings.data_dir / "snapshot.json").write_bytes(damaged)
    store = Store(settings)
    snapshot = store.load()
    assert snapshot.source == "sample" and len(snapshot.entries) > 200
    aside = list(settings.data_dir.glob("snapshot.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == damaged
    assert "damaged" in store.last_error
    assert "SNAPSHOT DAMAGED" in caplog.text


@pytest.mark.parametrize(
    "content",
    [b"", b"[]", b'{"format": "other"}', json.dumps({"format": "icalfeed-snapshot/1"}).encode()],
)
def test_any_non_snapshot_file_is_refused(tmp_path, content):
    path = tmp_path / "snapshot.json"
    path.write_bytes(content)
    with pytest.raises(SnapshotError):
        read_snapshot(path)


def test_no_snapshot_means_the_sample(settings):
    snapshot = Store(settings).load()
    assert snapshot.source == "sample"
    assert snapshot.version == load_sample().version


def test_sample_holds_every_fixture_id():
    sample = load_sample()
    assert {f"event:{e['id']}" for e in upstream_events()} <= set(sample.entries)


def test_commit_persists_and_swaps(settings):
    settings.data_dir.mkdir(parents=True)
    store = Store(settings, clock=lambda: NOW)
    store.load()
    store.commit(synced())
    assert store.snapshot.source == "snapshot" and store.snapshot.saved_at == NOW
    assert read_snapshot(store.path).version == store.snapshot.version


def test_a_disk_that_refuses_keeps_serving_the_new_data(settings, caplog):
    settings.data_dir.mkdir(parents=True)
    store = Store(settings)
    store.load()
    store.path.mkdir()  # the rename onto a folder fails, like a read-only or full disk would
    store.commit(synced())
    assert store.snapshot.source == "snapshot" and len(store.snapshot.entries) == 50
    # The public reason is short and names no path; the log has the whole story.
    assert store.last_error == "storage: not a file"
    assert f"cannot write {store.path}" in caplog.text
    assert not list(settings.data_dir.glob(".snapshot.json.*.tmp"))


def test_another_process_snapshot_is_picked_up(settings):
    settings.data_dir.mkdir(parents=True)
    store = Store(settings)
    store.load()
    assert not store.reload_if_changed()
    write_snapshot(store.path, synced(20))
    assert store.reload_if_changed()
    assert len(store.snapshot.entries) == 20 and store.snapshot.source == "snapshot"
    assert not store.reload_if_changed()


def test_version_ignores_when_events_were_last_seen():
    first = synced(20)
    again, counts = first.merge(parse_events(upstream_events()[:20]).items, NOW.replace(hour=13))
    assert counts.unchanged == 20 and again.version == first.version


def test_an_older_copy_never_overwrites_a_newer_one():
    raw = upstream_events()[0]
    newer = dict(raw, last_updated="2030-01-01T00:00:00Z", name="Newer")
    snapshot, _ = Snapshot({}).merge(parse_events([newer]).items, NOW)
    snapshot, counts = snapshot.merge(parse_events([raw]).items, NOW)
    assert snapshot.entries[f"event:{raw['id']}"].item.name == "Newer" and counts.changed == 0


@pytest.mark.parametrize(
    ("code", "reason"),
    [(28, "storage: full"), (30, "storage: read-only")],
    ids=["disk-full", "read-only"],
)
def test_a_full_or_read_only_disk_keeps_the_old_file_and_serves_from_memory(
    settings, monkeypatch, caplog, code, reason
):
    import errno
    import os

    settings.data_dir.mkdir(parents=True)
    store = Store(settings)
    store.load()
    store.commit(synced(10))
    before = store.path.read_bytes()

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(store_module.os, "replace", refuse)
    store.commit(synced(40))
    assert errno.errorcode[code] in ("ENOSPC", "EROFS")
    assert store.path.read_bytes() == before
    assert len(store.snapshot.entries) == 40 and store.last_error == reason
    assert f"cannot write {store.path}: {os.strerror(code)}" in caplog.text
    assert not list(settings.data_dir.glob(".snapshot.json.*.tmp"))
