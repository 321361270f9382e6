"""The request budget holds across instances, processes and restarts."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from icalfeed.ll2.budget import (
    WINDOW_SECONDS,
    BudgetStatus,
    RequestBudget,
    next_request_time,
    spare_requests,
)


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


# ------------------------------------------------ the pause and the horizon (file budget)
# The Redis budget keeps the same rules (tests/test_review.py, tests/test_redis.py); these
# hold for the file every single-machine deployment uses, with no server needed.


def test_a_shorter_pause_never_shortens_a_longer_one(tmp_path):
    clock = Clock()
    budget = RequestBudget(tmp_path, 12, clock)
    budget.pause_until(clock.now + 900)
    budget.pause_until(clock.now + 60)  # a second 429 asking for less
    assert budget.status().paused_until == clock.now + 900
    clock.now += 61
    assert not budget.try_spend() and budget.status().next_request_at == clock.now + 839
    budget.pause_until(clock.now + 1800)  # a longer one does extend it
    assert budget.status().paused_until == clock.now + 1800


def test_an_expired_pause_is_not_active(tmp_path):
    clock = Clock()
    budget = RequestBudget(tmp_path, 12, clock)
    budget.pause_until(clock.now + 600)
    clock.now += 600  # the pause ends now: not "until and including"
    status = budget.status()
    assert status.paused_until is None and status.next_request_at == clock.now
    assert budget.try_spend()
    assert RequestBudget(tmp_path, 12, clock).status().paused_until is None


def test_stamps_from_the_future_still_count(tmp_path):
    """A clock that moved back: requests stamped "later" were still sent, so they are
    counted (as made now, #31: the ceiling holds) until they have left the hour."""
    clock = Clock()
    budget = RequestBudget(tmp_path, 2, clock)
    assert budget.try_spend() and budget.try_spend()
    clock.now -= 600  # NTP stepped the clock back ten minutes
    status = budget.status()
    assert status.used == 2 and status.remaining == 0
    assert not budget.try_spend()
    assert status.next_request_at == clock.now + WINDOW_SECONDS
    clock.now += WINDOW_SECONDS  # an hour from the step on, they have left
    assert budget.try_spend()


def test_stamps_leave_the_window_after_exactly_an_hour(tmp_path):
    clock = Clock()
    budget = RequestBudget(tmp_path, 1, clock)
    assert budget.try_spend()
    clock.now += WINDOW_SECONDS - 1
    assert budget.status().used == 1 and not budget.try_spend()
    clock.now += 1  # an hour on, to the second: it has left
    assert budget.status().used == 0 and budget.try_spend()


def _status(limit: int, stamps=(), paused_until=None, now: float = 1_000_000.0) -> BudgetStatus:
    return BudgetStatus(
        limit,
        len(stamps),
        paused_until,
        next_request_time(list(stamps), limit, paused_until, now),
        tuple(stamps),
    )


NOW = 1_000_000.0


def test_spare_requests_leave_room_for_the_planned_ones():
    assert spare_requests(_status(10), [], NOW) == 10
    assert spare_requests(_status(10), [NOW + 60, NOW + 120], NOW) == 8
    # Three sent 50 minutes ago are still in the hour of a request planned 5 minutes on.
    sent = [NOW - 3000] * 3
    assert spare_requests(_status(10, sent), [NOW + 300], NOW) == 6
    # ... but they have left the hour of one planned 20 minutes on.
    assert spare_requests(_status(10, sent), [NOW + 1200], NOW) == 7
    assert spare_requests(_status(3, [NOW - 10] * 3), [], NOW) == 0


def test_spare_requests_are_none_while_a_pause_is_active():
    assert spare_requests(_status(10, paused_until=NOW + 60), [], NOW) == 0
    # The pause outlasts every planned request too: still none to spare.
    assert spare_requests(_status(10, paused_until=NOW + 60), [NOW + 3000], NOW) == 0


def test_spare_requests_only_plan_for_the_coming_hour():
    """A request planned an hour or more from now does not hold back one sent now: by then,
    the one sent now has left its hour."""
    beyond = [NOW + WINDOW_SECONDS, NOW + WINDOW_SECONDS + 5, NOW + 2 * WINDOW_SECONDS]
    assert spare_requests(_status(2), beyond, NOW) == 2
    assert spare_requests(_status(2), [NOW + WINDOW_SECONDS - 1], NOW) == 1


def test_spare_requests_count_planned_ones_in_the_same_hour():
    # Two planned within the hour of each other: the second's hour holds the first too.
    assert spare_requests(_status(3), [NOW + 10, NOW + 20], NOW) == 1
    # Planned ones an hour apart do not crowd each other out.
    assert spare_requests(_status(2), [NOW + 10, NOW + 10 + WINDOW_SECONDS - 1], NOW) == 1
    # Never below zero, however much is planned.
    assert spare_requests(_status(2), [NOW + 1, NOW + 2, NOW + 3], NOW) == 0


def test_next_request_time():
    assert next_request_time([], 2, None, NOW) == NOW
    assert next_request_time([NOW - 100], 2, None, NOW) == NOW
    assert next_request_time([NOW - 100, NOW - 50], 2, None, NOW) == NOW - 100 + WINDOW_SECONDS
    assert next_request_time([NOW - 100, NOW - 50, NOW - 10], 2, None, NOW) == (
        NOW - 50 + WINDOW_SECONDS
    )
    assert next_request_time([], 0, None, NOW) == float("inf")
    assert next_request_time([], 2, NOW + 5, NOW) == NOW + 5
    assert next_request_time([NOW - 100, NOW - 50], 2, NOW + 5, NOW) == NOW - 100 + WINDOW_SECONDS
    assert next_request_time([], 2, NOW - 5, NOW) == NOW  # a pause that is over


def test_status_remaining_is_never_negative():
    assert _status(2, [NOW] * 3).remaining == 0
    assert _status(5, [NOW] * 2).remaining == 3


def test_a_refund_gives_back_this_threads_last_request_once(tmp_path):
    clock = Clock()
    budget = RequestBudget(tmp_path, 2, clock)
    budget.refund()  # nothing spent yet: nothing to give back
    assert budget.try_spend() and budget.try_spend() and not budget.try_spend()
    budget.refund()
    assert budget.status().used == 1
    budget.refund()  # once only: the other request was sent
    assert budget.status().used == 1 and budget.try_spend()
    # Another thread's refund gives back nothing of this one's.
    import threading

    other = threading.Thread(target=budget.refund)
    other.start()
    other.join()
    assert budget.status().used == 2
    clock.now += WINDOW_SECONDS  # the stamps left the hour: a late refund removes nothing
    budget.refund()
    assert budget.status().used == 0


def test_the_budget_file_and_its_lock(tmp_path):
    clock = Clock()
    budget = RequestBudget(tmp_path, 3, clock)
    assert budget.try_spend()
    budget.pause_until(clock.now + 60)
    assert (tmp_path / "budget.lock").exists()  # the lock every process takes
    assert json.loads((tmp_path / "budget.json").read_text()) == {
        "requests": [clock.now],
        "paused_until": clock.now + 60,
    }
    status = budget.status()
    assert status.problem is None and status.stamps == (clock.now,)
    # A file some older version wrote without a list of requests: none spent.
    (tmp_path / "budget.json").write_text('{"paused_until": null}')
    assert budget.status().used == 0 and budget.try_spend()


def test_a_damaged_file_reads_as_a_full_hour_in_the_status_too(tmp_path):
    clock = Clock()
    budget = RequestBudget(tmp_path, 4, clock)
    (tmp_path / "budget.json").write_text('{"requests": ["x"]}')
    status = budget.status()
    assert status.used == 4 and status.remaining == 0
    assert status.next_request_at == clock.now + WINDOW_SECONDS


def test_a_data_dir_that_refuses_the_lock_still_tells_the_status(tmp_path, monkeypatch):
    import contextlib

    from icalfeed.base.locks import DataDirError
    from icalfeed.ll2 import budget as budget_module

    clock = Clock()
    budget = RequestBudget(tmp_path, 3, clock)
    assert budget.try_spend()

    @contextlib.contextmanager
    def refused(path):
        raise DataDirError(30, "storage: read-only")
        yield

    monkeypatch.setattr(budget_module, "file_lock", refused)
    status = budget.status()
    assert status.problem == "storage: read-only" and status.used == 1
    budget.pause_until(clock.now + 60)  # logged, not raised
    budget.refund()  # logged, not raised


def test_a_file_that_cannot_be_written_is_a_data_dir_error(tmp_path, monkeypatch):
    import errno

    from icalfeed.base.locks import DataDirError
    from icalfeed.ll2 import budget as budget_module

    budget = RequestBudget(tmp_path, 3, Clock())

    def read_only(path, data):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(budget_module, "replace_file", read_only)
    try:
        budget.try_spend()
    except DataDirError as exc:
        assert exc.errno == errno.EROFS and "read-only" in str(exc)
    else:
        raise AssertionError("no DataDirError")


def test_next_request_time_with_a_limit_of_one():
    assert next_request_time([NOW - 100], 1, None, NOW) == NOW - 100 + WINDOW_SECONDS


def test_a_request_an_hour_before_a_planned_one_has_left_its_hour():
    """The same edge as the window's: a stamp exactly an hour before a planned request is
    out of that request's hour."""
    planned = NOW + 300
    assert spare_requests(_status(1, [planned - WINDOW_SECONDS]), [planned], NOW) == 0
    assert spare_requests(_status(2, [planned - WINDOW_SECONDS]), [planned], NOW) == 1
    assert spare_requests(_status(2, [planned - WINDOW_SECONDS + 1]), [planned], NOW) == 0


def test_a_spend_after_a_pause_keeps_it_should_the_clock_step_back(tmp_path):
    """The pause is the upstream's, in wall-clock time: a spend after it ends leaves it on
    file, so a clock stepped back to before its end is paused again."""
    clock = Clock()
    budget = RequestBudget(tmp_path, 5, clock)
    budget.pause_until(clock.now + 600)
    clock.now += 700
    assert budget.try_spend()
    clock.now -= 300  # NTP stepped back to inside the pause
    assert not budget.try_spend() and budget.status().paused_until == clock.now + 200


def test_a_refund_keeps_the_pause(tmp_path):
    clock = Clock()
    budget = RequestBudget(tmp_path, 5, clock)
    assert budget.try_spend()
    budget.pause_until(clock.now + 600)  # the request sent was answered 429
    budget.refund()
    assert budget.status().paused_until == clock.now + 600
