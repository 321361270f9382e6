"""The request budget holds across instances, processes and restarts."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from icalfeed.ll2.budget import WINDOW_SECONDS, RequestBudget


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_never_more_than_the_limit_in_an_hour(tmp_path):
    clock = Clock()
    budget = RequestBudget(tmp_path, 3, clock)
    assert [budget.try_spend() for _ in range(5)] == [True, True, True, False, False]
    status = budget.status()
    assert status.remaining == 0 and status.next_request_at == clock.now + WINDOW_SECONDS


def test_window_slides(tmp_path):
    clock = Clock()
    budget = RequestBudget(tmp_path, 2, clock)
    assert budget.try_spend()
    clock.now += 1800
    assert budget.try_spend() and not budget.try_spend()
    clock.now += 1801  # the first request has left the window, the second has not
    assert budget.try_spend() and not budget.try_spend()


def test_spent_budget_survives_a_restart(tmp_path):
    clock = Clock()
    assert RequestBudget(tmp_path, 2, clock).try_spend()
    assert RequestBudget(tmp_path, 2, clock).try_spend()
    assert not RequestBudget(tmp_path, 2, clock).try_spend()


def test_pause_blocks_until_its_end(tmp_path):
    clock = Clock()
    budget = RequestBudget(tmp_path, 12, clock)
    budget.pause_until(clock.now + 600)
    assert not budget.try_spend()
    assert budget.status().next_request_at == clock.now + 600
    clock.now += 601
    assert budget.try_spend()


def test_zero_limit_never_spends(tmp_path):
    assert not RequestBudget(tmp_path, 0).try_spend()


def test_damaged_budget_file_counts_as_a_full_hour(tmp_path):
    budget = RequestBudget(tmp_path, 5)
    (tmp_path / "budget.json").write_text("{not json")
    assert not budget.try_spend()


@pytest.mark.parametrize(
    "damage",
    [b"", b'{"requests": [999000.0, 9990', b"\x00" * 64, b"[1, 2]", b'{"requests": ["x"]}'],
    ids=["empty", "truncated", "zeros", "not-an-object", "bad-stamp"],
)
def test_a_damaged_budget_file_recovers_by_itself(tmp_path, damage, caplog):
    """#31: what a power loss mid-write leaves counts as a full hour spent at the moment it
    is found, is rewritten once, and the syncs resume an hour later (they used to stop for
    good: every read dated the full hour "now" again)."""
    clock = Clock()
    found_at = clock.now
    (tmp_path / "budget.json").write_bytes(damage)
    budget = RequestBudget(tmp_path, 5, clock)
    assert not budget.try_spend()
    assert "damaged" in caplog.text
    written = json.loads((tmp_path / "budget.json").read_text())  # repaired at once
    assert written["requests"] == [found_at] * 5
    caplog.clear()
    clock.now += 1800
    status = budget.status()
    assert status.remaining == 0 and status.next_request_at == found_at + WINDOW_SECONDS
    assert not budget.try_spend() and "damaged" not in caplog.text  # found once
    clock.now = found_at + WINDOW_SECONDS + 1
    assert budget.try_spend()
    clock.now = found_at + 3 * WINDOW_SECONDS  # the "3 hours later"
    assert sum(budget.try_spend() for _ in range(6)) == 5


def test_a_damage_found_by_a_status_read_is_dated_then(tmp_path):
    """/healthz may be the first to read the damage: the hour starts then, not later."""
    clock = Clock()
    (tmp_path / "budget.json").write_text('{"requests": [')
    budget = RequestBudget(tmp_path, 3, clock)
    assert budget.status().next_request_at == clock.now + WINDOW_SECONDS
    found_at = clock.now
    clock.now += 600
    assert budget.status().next_request_at == found_at + WINDOW_SECONDS
    clock.now = found_at + WINDOW_SECONDS + 1
    assert budget.try_spend()


def _fsyncs_around_rename(monkeypatch) -> list[tuple[str, str]]:
    """Record fsync (of which file or folder) and rename, in order."""
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src, dst) -> None:
        events.append(("rename", str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return events


def test_budget_writes_are_fsynced_file_and_folder(tmp_path, monkeypatch):
    events = _fsyncs_around_rename(monkeypatch)
    assert RequestBudget(tmp_path, 5, Clock()).try_spend()
    final = str(tmp_path / "budget.json")
    kinds = [
        (kind, Path(path).name if path != str(tmp_path) else "<folder>") for kind, path in events
    ]
    assert kinds[-3][0] == "fsync" and kinds[-3][1].startswith(".budget.json.")  # the new bytes
    assert events[-2] == ("rename", final)
    assert events[-1] == ("fsync", str(tmp_path))  # the rename itself


def test_snapshot_writes_are_fsynced_file_and_folder(tmp_path, monkeypatch):
    from icalfeed.data.snapshot import Snapshot
    from icalfeed.data.store import write_snapshot

    events = _fsyncs_around_rename(monkeypatch)
    write_snapshot(tmp_path / "snapshot.json", Snapshot({}, source="snapshot"))
    assert events[0][0] == "fsync" and Path(events[0][1]).name.startswith(".snapshot.json.")
    assert events[1:] == [("rename", str(tmp_path / "snapshot.json")), ("fsync", str(tmp_path))]


def _spend_many(data_dir: str, attempts: int, queue) -> None:
    budget = RequestBudget(Path(data_dir), 12)
    queue.put(sum(budget.try_spend() for _ in range(attempts)))


def test_processes_sharing_a_data_dir_share_one_budget(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    workers = [ctx.Process(target=_spend_many, args=(str(tmp_path), 10, queue)) for _ in range(4)]
    for worker in workers:
        worker.start()
    granted = sum(queue.get(timeout=30) for _ in workers)
    for worker in workers:
        worker.join(10)
    assert granted == 12
