"""The request budget holds across instances, processes and restarts."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

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
