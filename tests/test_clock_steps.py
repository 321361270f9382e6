"""The wall clock stepping back or forward (#31): the budget keeps its hour and the sync its
pace, on a simulated clock that steps both ways; `/healthz` names the step."""

from __future__ import annotations

import itertools
import json
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import settings_against
from redistools import needs_redis
from servers import serve_offline

from icalfeed.base.clockstep import ClockWatch, MachineClock, Pace
from icalfeed.data.store import Store
from icalfeed.ll2.budget import WINDOW_SECONDS, RequestBudget
from icalfeed.ll2.upstream import LL2Client
from icalfeed.sync.passes import Syncer

HOURS = 3600.0


class SimTime:
    """Real time passing (`real`, seconds) and a wall clock that can be stepped. Doubles as
    the machine's steady clock of one boot (`boot`, `now`)."""

    boot = "simulated-boot"

    def __init__(self) -> None:
        self.real = 0.0
        self.step = 0.0
        self.start = datetime(2026, 11, 25, 12, 0, tzinfo=UTC).timestamp()

    def wall(self) -> float:
        return self.start + self.real + self.step

    def utc(self) -> datetime:
        return datetime.fromtimestamp(self.wall(), UTC)

    def now(self) -> float:  # the machine's clock since boot
        return 5000.0 + self.real


def _most_in_a_real_hour(times: list[float]) -> int:
    return max((sum(1 for t in times if s <= t < s + HOURS) for s in times), default=0)


def test_the_budget_keeps_its_hour_when_the_wall_clock_steps(tmp_path):
    """Spend as fast as allowed (one try a minute) for 8 real hours while the wall clock
    steps 3 h back, then 3 h forward, then back again: never more than the ceiling in any
    real hour, and the requests go on at the same pace (a step back used to stop them for
    the length of the step; a step forward emptied the window at once)."""
    sim = SimTime()
    budget = RequestBudget(tmp_path, 3, clock=sim.wall, machine=sim)
    steps = {90: -3 * HOURS, 200: +3 * HOURS, 430: -3 * HOURS}
    granted: list[float] = []
    for minute in range(8 * 60):
        sim.real = minute * 60.0
        sim.step += steps.get(minute, 0.0)
        if budget.try_spend():
            granted.append(sim.real)
    assert _most_in_a_real_hour(granted) == 3
    gaps = [b - a for a, b in itertools.pairwise(granted)]
    assert max(gaps) <= HOURS - 2 * 60  # 3 in the first minutes of every real hour
    assert len(granted) == 8 * 3
    # A request of the last hour always counts, whatever the wall clock says now.
    status = budget.status()
    assert status.clock_step is not None and status.clock_step.seconds == -3 * HOURS
    assert status.clock_step.reason() == "clock: stepped back 3 h 0 min"


def test_another_process_of_the_machine_sees_the_step_in_the_file(tmp_path):
    """The step is found from the file's record of both clocks: a process that was not
    running when the clock stepped moves the times too."""
    sim = SimTime()
    assert RequestBudget(tmp_path, 2, clock=sim.wall, machine=sim).try_spend()
    sim.real += 60
    sim.step = 2 * HOURS  # forward: without the record the request would look 2 h old
    later = RequestBudget(tmp_path, 2, clock=sim.wall, machine=sim)
    assert later.try_spend() and not later.try_spend()
    status = later.status()
    assert status.used == 2 and status.clock_step is not None
    assert status.clock_step.reason() == "clock: stepped forward 2 h 0 min"
    written = json.loads((tmp_path / "budget.json").read_text())
    assert written["clock_step"]["seconds"] == 2 * HOURS


def test_stamps_from_the_future_count_as_now_when_no_record_tells(tmp_path):
    """From another boot, or written by an older release: a request time ahead of the clock
    counts as made now (the ceiling holds), not for the length of the step on top."""
    now = 2_000_000.0
    (tmp_path / "budget.json").write_text(
        json.dumps({"requests": [now + 3 * HOURS], "paused_until": now + 5 * HOURS})
    )
    budget = RequestBudget(tmp_path, 1, clock=lambda: now, machine=SimTime())
    status = budget.status()
    assert status.used == 1 and status.stamps == (now,)
    assert status.paused_until == now + WINDOW_SECONDS  # no pause longer than an hour
    assert json.loads((tmp_path / "budget.json").read_text())["requests"] == [now]


def _simulated_syncer(settings, sim: SimTime) -> Syncer:
    store = Store(settings, clock=sim.utc)
    store.load()
    budget = RequestBudget(settings.data_dir, settings.requests_per_hour, sim.wall, sim)
    client = LL2Client(settings, budget, clock=sim.wall)
    pace = Pace(ClockWatch(wall=sim.wall, steady=sim.now))
    return Syncer(settings, store, client, clock=sim.utc, pace=pace)


def test_the_sync_keeps_its_pace_and_the_ceiling_through_clock_steps(tmp_path, fake_ll2):
    """A server's sync, ticking every minute for 8 real hours, its ceiling (4) exactly the
    cadence (the window hourly, the changes every 20 minutes): the wall clock steps 3 h
    forward, then 3 h back. Every real hour keeps to the ceiling and no pass waits longer
    than its interval (a step back used to stop the sync for 3 hours)."""
    sim = SimTime()
    settings = settings_against(
        fake_ll2, tmp_path / "var", requests_per_hour=4, incremental_minutes=20
    )
    syncer = _simulated_syncer(settings, sim)
    sent: list[float] = []
    fake_ll2.on_request = lambda seen: sent.append(sim.real)
    steps = {190: +3 * HOURS, 310: -3 * HOURS}
    for minute in range(8 * 60):
        sim.real = minute * 60.0
        sim.step += steps.get(minute, 0.0)
        syncer.run()
    assert _most_in_a_real_hour(sent) <= 4, sent
    settled = [t for t in sent if t >= 2 * HOURS]
    gaps = [b - a for a, b in itertools.pairwise(settled)]
    assert max(gaps) <= 21 * 60, [(t / 60, g / 60) for t, g in zip(settled, gaps, strict=False)]
    assert len(settled) >= 5 * 3  # the changes every 20 min at least, steps or not
    step = syncer.pace.watch.last if syncer.pace.watch else None
    assert step is not None and step.seconds == -3 * HOURS


def test_healthz_names_a_step_a_real_server_finds(tmp_path):
    """A real `icalfeed serve`: its data dir's budget file was written 3 h ahead of the wall
    clock by this very boot (the clock stepped back since): degraded, with the step named."""
    machine = MachineClock()
    if machine.boot is None:
        pytest.skip("no boot id on this system")
    var = tmp_path / "var"
    var.mkdir()
    ahead = time.time() + 3 * HOURS
    (var / "budget.json").write_text(
        json.dumps(
            {
                "requests": [ahead - 60],
                "paused_until": None,
                "clock": {"boot": machine.boot, "wall": ahead, "steady": machine.now()},
            }
        )
    )
    process, port, log = serve_offline(tmp_path)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            health = json.loads(answer.read())
    finally:
        process.terminate()
        process.wait(10)
    assert health["status"] == "degraded", health
    assert "clock: stepped back 3 h 0 min" in health["last_error"]
    assert round(health["clock_step"]["seconds"] / 60) == -180
    assert health["budget"]["used_last_hour"] == 1  # the request of a minute ago counts
    assert str(tmp_path) not in json.dumps(health)
    assert "stepped back" in Path(log).read_text()


@needs_redis
def test_a_redis_request_time_from_the_future_counts_as_now(rclient):
    """The Redis host's clock stepped back: a request stamped 3 h ahead holds its slot for
    an hour from now, not for four."""
    from icalfeed.data import redisstate

    seconds, micros = rclient.time()
    server_now = seconds + micros / 1e6
    rclient.zadd("icalfeed:budget:requests", {"before-the-step": server_now + 3 * HOURS})
    budget = redisstate.RedisBudget(rclient, 2)
    assert budget.try_spend() and not budget.try_spend()
    score = rclient.zscore("icalfeed:budget:requests", "before-the-step")
    assert score == pytest.approx(server_now, abs=5)
    assert budget.status().next_request_at < time.time() + WINDOW_SECONDS + 5
