"""Review of the fast path, the Redis-shared state, Store reloads/commits and Syncer._run:
each test pins a bug the review found (now fixed) or behaviour it checked and found right."""

from __future__ import annotations

import errno
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ll2data import upstream_events
from redistools import instance, needs_redis
from synctools import Clock, make_syncer, stand_in_client, stand_in_store

from icalfeed.base.config import Settings
from icalfeed.data import store as store_module
from icalfeed.data.snapshot import Snapshot
from icalfeed.data.store import Store
from icalfeed.ll2.models import parse_events
from icalfeed.serving.fastpath import FeedFastPath
from icalfeed.sync.report import SyncReport
from icalfeed.sync.scheduler import SyncScheduler

URL = "/events.ics?start=1957-01-01"


def synced(count: int, now: datetime | None = None) -> Snapshot:
    snapshot, _ = Snapshot({}, source="snapshot").merge(
        parse_events(upstream_events()[:count]).items, now or datetime.now(UTC)
    )
    return snapshot


# --------------------------------------------------------------------------- fast path


@pytest.fixture
def layer(app):
    layer = app.wsgi_app
    while not isinstance(layer, FeedFastPath):  # under the request observer (/metrics, log)
        layer = layer.app
    return layer


def test_fastpath_date_header_is_not_replayed(client, layer, monkeypatch):
    """The stored headers include the `Date` werkzeug's make_conditional added on the first
    request; replaying it makes every later answer look old to caches (Age from Date)."""
    import werkzeug.wrappers.response as wz

    old = "Mon, 01 Jan 2024 00:00:00 GMT"
    with monkeypatch.context() as patch:
        patch.setattr(wz, "http_date", lambda *args: old)
        first = client.get(URL)
    assert first.headers["Date"] == old  # the first answer was made "then"
    second = client.get(URL)
    assert layer.hits == 1
    assert second.headers.get("Date") != old


def test_fastpath_if_match_precondition(client, layer):
    """RFC 9110 §13.1.1: an origin server MUST evaluate If-Match; Flask answers 412 for a
    failed one, the fast path ignores it and answers 200 with the body."""
    through_flask = client.get(URL, headers={"If-Match": '"nope"'})
    client.get(URL)  # now stored
    fast = client.get(URL, headers={"If-Match": '"nope"'})
    assert through_flask.status_code == 412 and fast.status_code == 412
    assert layer.hits == 0  # preconditions always go to Flask


# --------------------------------------------------------------------------- Redis


class FakeSyncer:
    """Just enough of a Syncer for SyncScheduler: `run` sleeps like a sync would."""

    def __init__(self, seconds: float, during=None) -> None:
        self.seconds = seconds
        self.during = during
        self.runs = 0
        self.store, self.client = stand_in_store(), stand_in_client()

    def run(self) -> SyncReport:
        self.runs += 1
        time.sleep(self.seconds)
        if self.during is not None:
            self.during()
        return SyncReport(requests=1)


@needs_redis
def test_budget_is_exact_under_concurrency(redis_url):
    from icalfeed.data import redisstate

    results: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        budget = redisstate.RedisBudget(redisstate.connect(redis_url), 12)
        for _ in range(6):
            spent = budget.try_spend()
            with lock:
                results.append(spent)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 12
    assert redisstate.RedisBudget(redisstate.connect(redis_url), 12).status().used == 12


@needs_redis
def test_budget_pause_is_shared(rclient):
    from icalfeed.data import redisstate

    one = redisstate.RedisBudget(rclient, 12)
    two = redisstate.RedisBudget(rclient, 12)
    one.pause_until(time.time() + 1.0)
    assert not two.try_spend() and two.status().paused_until is not None
    one.pause_until(time.time() + 0.2)  # a shorter pause never shortens the longer one
    time.sleep(0.5)
    assert not two.try_spend()
    time.sleep(0.7)
    assert two.try_spend()


@needs_redis
def test_budget_ceiling_holds_with_clock_skew(rclient):
    from icalfeed.data import redisstate

    real = [1_800_000_000.0]
    honest = redisstate.RedisBudget(rclient, 3, clock=lambda: real[0])
    ahead = redisstate.RedisBudget(rclient, 3, clock=lambda: real[0] + 1200)  # 20 min fast
    assert [honest.try_spend() for _ in range(3)] == [True, True, True]
    real[0] += 2500  # 42 minutes later in real time: the hour is still used up
    spent = [ahead.try_spend() for _ in range(3)]
    assert spent == [False, False, False]


@needs_redis
def test_a_healthy_leader_keeps_the_lease_with_tick_equal_to_lease(rclient):
    from icalfeed.data import redisstate

    leader = redisstate.RedisLease(rclient, 1)
    other = redisstate.RedisLease(rclient, 1)
    scheduler = SyncScheduler(FakeSyncer(0.25), tick_seconds=1, lease=leader)
    scheduler.start()
    try:
        time.sleep(0.1)
        assert leader.held
        stolen = False
        deadline = time.monotonic() + 2.6
        while time.monotonic() < deadline and not stolen:
            stolen = other.hold()
            time.sleep(0.04)
    finally:
        scheduler.stop()
    assert not stolen


@needs_redis
def test_a_sync_longer_than_the_lease_keeps_one_leader(rclient):
    from icalfeed.data import redisstate

    leader = redisstate.RedisLease(rclient, 1.5)
    other = redisstate.RedisLease(rclient, 1.5)
    seen: list[bool] = []
    # The sync (one slow upstream page is enough: a response may take 70 s, the lease 90)
    syncer = FakeSyncer(1.7, during=lambda: seen.append(other.hold()))
    scheduler = SyncScheduler(syncer, tick_seconds=60, lease=leader)
    scheduler.start()
    try:
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.stop()
    assert seen == [False]


@needs_redis
def test_a_follower_reading_across_a_write_ends_on_the_newest_snapshot(
    settings, rclient, monkeypatch
):
    """The snapshot is one SET (body and stamp in one MULTI): a reader whose stamp() and
    read() straddle a write serves the newer body and settles on the next tick."""
    from icalfeed.data import redisstate

    settings.ensure_data_dir()
    lease = redisstate.RedisLease(rclient, 60)
    assert lease.hold()
    shared = redisstate.RedisSnapshots(rclient, owner=lease.me)
    shared.write(store_module.snapshot_bytes(synced(10)), "s1")
    follower = Store(settings, shared=shared)
    follower.load()
    real_stamp = shared.stamp

    def stamp_then_write() -> str | None:
        value = real_stamp()
        shared.write(store_module.snapshot_bytes(synced(30)), "s2")
        return value

    shared.write(store_module.snapshot_bytes(synced(20)), "s1b")
    monkeypatch.setattr(shared, "stamp", stamp_then_write)
    assert follower.reload_if_changed()
    monkeypatch.setattr(shared, "stamp", real_stamp)
    assert len(follower.snapshot.entries) == 30
    assert not follower.reload_if_changed()
    assert len(follower.snapshot.entries) == 30


@needs_redis
def test_followers_pick_up_the_shared_snapshot_and_survive_an_empty_redis(
    tmp_path, redis_url, fake_ll2
):
    leader, syncer, client = instance(tmp_path, "a", redis_url, fake_ll2.base_url, lead=True)
    follower, _, _ = instance(tmp_path, "b", redis_url, fake_ll2.base_url)
    assert syncer.run().ok and len(leader.snapshot.entries) == len(fake_ll2.events)
    assert follower.reload_if_changed()
    assert follower.snapshot.version == leader.snapshot.version
    assert not follower.reload_if_changed()  # nothing new: nothing done
    client.flushall()  # Redis restarted without persistence
    assert not follower.reload_if_changed()
    assert follower.snapshot.version == leader.snapshot.version  # still serving
    assert follower.last_error is None


@needs_redis
def test_the_leader_republishes_a_lost_shared_snapshot(tmp_path, redis_url, fake_ll2):
    leader, syncer, client = instance(tmp_path, "a", redis_url, fake_ll2.base_url, lead=True)
    assert syncer.run().ok
    client.flushall()
    SyncScheduler(syncer, 60, lease=syncer.lease).run_once()  # the leader's next tick
    newcomer, _, _ = instance(tmp_path, "c", redis_url, fake_ll2.base_url)
    assert newcomer.snapshot.source == "snapshot"
    assert newcomer.snapshot.version == leader.snapshot.version


@needs_redis
def test_a_follower_never_trades_a_complete_snapshot_for_a_partial_one(
    tmp_path, redis_url, fake_ll2
):
    old_leader, syncer, client = instance(tmp_path, "a", redis_url, fake_ll2.base_url, lead=True)
    follower, _, _ = instance(tmp_path, "b", redis_url, fake_ll2.base_url)
    assert syncer.run().ok and old_leader.snapshot.sync().backfill_complete
    follower.reload_if_changed()
    complete = len(follower.snapshot.entries)
    assert complete == len(fake_ll2.events)
    client.flushall()  # Redis restarted empty (budget, lease and snapshot gone)
    # An instance restarted meanwhile (followers never write the shared data to their own
    # disk) comes up on the sample, wins the free lease and syncs with what budget there is.
    newcomer, new_syncer, _ = instance(
        tmp_path, "c", redis_url, fake_ll2.base_url, limit=2, lead=True
    )
    assert newcomer.snapshot.source == "sample"
    new_syncer.run()
    assert not newcomer.snapshot.sync().backfill_complete
    follower.reload_if_changed()
    assert len(follower.snapshot.entries) == complete


# ------------------------------------------------- Redis protocol: five proven failures (#22)


@needs_redis
def test_a_budget_of_zero_is_no_requests_with_redis_too(tmp_path, redis_url, fake_ll2):
    from icalfeed import create_app
    from icalfeed.data import redisstate

    budget = redisstate.RedisBudget(redisstate.connect(redis_url), 0)
    status = budget.status()
    assert status.remaining == 0 and status.next_request_at == float("inf")
    assert budget.try_spend() is False
    settings = Settings(
        upstream_url=fake_ll2.base_url,
        data_dir=tmp_path / "zero",
        redis_url=redis_url,
        requests_per_hour=0,
    )
    app = create_app(settings, start_sync=False)
    health = app.test_client().get("/healthz")
    assert health.status_code == 200 and health.json["budget"]["remaining"] == 0
    assert health.json["budget"]["next_request_at"] is None
    _, syncer, _ = instance(tmp_path, "z", redis_url, fake_ll2.base_url, limit=0, lead=True)
    report = SyncScheduler(syncer, 60, lease=syncer.lease).run_once()
    assert "internal" not in (report.error or "") and fake_ll2.requests == []


@needs_redis
def test_a_release_waits_for_a_renewal_on_the_wire_and_none_follows(rclient):
    from icalfeed.data import redisstate

    lease = redisstate.RedisLease(rclient, 2)
    assert lease.hold()
    sent = lease._hold

    def slow(**kwargs):
        time.sleep(0.4)  # the renewal is on the wire when the release starts
        return sent(**kwargs)

    lease._hold = slow
    renewal = threading.Thread(target=lease.hold)
    renewal.start()
    time.sleep(0.1)
    lease.release()
    renewal.join(5)
    assert rclient.get("icalfeed:leader") is None
    assert lease.hold() is False and rclient.get("icalfeed:leader") is None


@needs_redis
def test_a_release_never_deletes_another_holders_lease(rclient):
    from icalfeed.data import redisstate

    lease = redisstate.RedisLease(rclient, 2)
    assert lease.hold()
    rclient.set("icalfeed:leader", "the-next-leader", px=5000)  # ours ran out, taken since
    lease.release()
    assert rclient.get("icalfeed:leader") == b"the-next-leader"


@needs_redis
def test_a_snapshot_the_leader_failed_to_share_is_shared_on_its_next_tick(
    tmp_path, redis_url, fake_ll2
):
    leader, syncer, _ = instance(tmp_path, "a", redis_url, fake_ll2.base_url, lead=True)
    follower, _, _ = instance(tmp_path, "b", redis_url, fake_ll2.base_url)
    assert syncer.run().ok
    follower.reload_if_changed()
    shared = leader.shared
    write = shared.write
    shared.write = lambda body, stamp: (_ for _ in ()).throw(ConnectionError("blip"))
    changed = dict(next(iter(fake_ll2.events.values())), name="Changed during a blip")
    changed["last_updated"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    fake_ll2.upsert(changed)
    assert syncer.run(force=True).ok and leader.storage_error == "shared store: unreachable"
    assert not follower.reload_if_changed()  # the shared copy is the old one
    shared.write = write
    SyncScheduler(syncer, 60, lease=syncer.lease).run_once()  # the leader's next tick
    assert leader.storage_error is None
    assert follower.reload_if_changed()
    assert follower.snapshot.version == leader.snapshot.version


@needs_redis
def test_a_restarted_follower_keeps_its_complete_copy_over_a_partial_shared_one(
    tmp_path, redis_url, fake_ll2
):
    _, syncer, client = instance(tmp_path, "a", redis_url, fake_ll2.base_url, lead=True)
    follower, _, _ = instance(tmp_path, "b", redis_url, fake_ll2.base_url)
    assert syncer.run().ok and follower.reload_if_changed()  # b keeps a copy on its disk
    complete = len(follower.snapshot.entries)
    client.flushall()  # Redis lost everything; a newcomer rebuilds with little budget
    syncer.lease.release()
    newcomer, new_syncer, _ = instance(
        tmp_path, "c", redis_url, fake_ll2.base_url, limit=2, lead=True
    )
    new_syncer.run()
    assert len(newcomer.snapshot.entries) < 0.9 * complete
    restarted, b_syncer, _ = instance(tmp_path, "b", redis_url, fake_ll2.base_url)
    assert len(restarted.snapshot.entries) == complete  # its own copy, not the partial one
    # Leading later, it puts the complete snapshot back for everyone.
    new_syncer.lease.release()
    assert b_syncer.lease.hold()
    SyncScheduler(b_syncer, 60, lease=b_syncer.lease).run_once()
    late, _, _ = instance(tmp_path, "d", redis_url, fake_ll2.base_url)
    assert len(late.snapshot.entries) >= complete


@needs_redis
def test_a_leader_whose_sync_hangs_lets_the_lease_go(rclient, monkeypatch):
    from icalfeed.data import redisstate
    from icalfeed.sync import scheduler

    monkeypatch.setattr(scheduler, "STALL_LEASES", 2)
    leader = redisstate.RedisLease(rclient, 0.6)
    other = redisstate.RedisLease(rclient, 0.6)
    hung = SyncScheduler(FakeSyncer(8.0), tick_seconds=60, lease=leader)
    hung.start()
    try:
        time.sleep(0.2)
        assert leader.held and not other.hold()
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and not other.hold():
            time.sleep(0.1)
        assert other.held  # taken over while the sync still hangs
    finally:
        hung._stop.set()


@needs_redis
def test_a_leader_backing_off_steps_down_for_anotherinstance(rclient):
    from icalfeed.data import redisstate

    class Failing(FakeSyncer):
        def run(self, **_: object) -> SyncReport:
            self.runs += 1
            return SyncReport(error="connection refused", errors=["connection refused"])

    leader = redisstate.RedisLease(rclient, 30)
    other = redisstate.RedisLease(rclient, 30)
    scheduler = SyncScheduler(Failing(0), tick_seconds=60, lease=leader)
    scheduler.run_once()
    assert leader.held and not other.hold()  # one failure: it keeps trying
    scheduler.run_once()
    assert not leader.held and other.hold()  # two in a row: another instance may try
    assert leader.hold() is False  # and it does not take the lease back while it backs off


# --------------------------------------------------------------------------- Store / Syncer


class FlakyShared:
    """A SharedSnapshots whose connection can be cut, like Redis going away and back."""

    def __init__(self, body: bytes, stamp: str) -> None:
        self.body, self._stamp, self.down = body, stamp, False

    def _check(self) -> None:
        if self.down:
            raise ConnectionError("Connection refused")

    def stamp(self) -> str | None:
        self._check()
        return self._stamp

    def read(self) -> bytes | None:
        self._check()
        return self.body

    def write(self, body: bytes, stamp: str) -> None:
        self._check()
        self.body, self._stamp = body, stamp


def test_a_follower_recovers_from_a_redis_blip(settings):
    settings.ensure_data_dir()
    good = synced(30)
    shared = FlakyShared(store_module.snapshot_bytes(good), "v1@t1")
    follower = Store(settings, shared=shared)
    assert follower.load().version == good.version
    shared.down = True
    assert not follower.reload_if_changed()
    assert follower.last_error == "shared store: unreachable"
    shared.down = False
    follower.reload_if_changed()  # next ticks: Redis answers again (same stamp)
    follower.reload_if_changed()
    assert follower.last_error is None


def test_a_file_mode_reader_picks_up_each_commit_once(settings):
    settings.ensure_data_dir()
    writer, reader = Store(settings), Store(settings)
    writer.load()
    reader.load()
    writer.commit(synced(20))
    assert reader.reload_if_changed() and not reader.reload_if_changed()
    assert reader.snapshot.version == writer.snapshot.version
    writer.commit(synced(40))
    assert reader.reload_if_changed() and len(reader.snapshot.entries) == 40


def test_a_sync_keeps_the_disk_error_it_ran_into(online_settings, monkeypatch):
    syncer = make_syncer(online_settings, Clock())
    real_replace = os.replace

    def refuse(src, dst, *args, **kwargs):
        if Path(dst).name == "snapshot.json":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(store_module.os, "replace", refuse)
    report = syncer.run()
    assert report.ok and len(syncer.store.snapshot.entries) > 200  # served from memory
    assert not syncer.store.path.exists()
    assert syncer.store.last_error == "storage: full"  # public: no path (that is logged)


# ------------------------------------------------------- review of the Redis work (#18/#22)


def test_a_scheduler_crash_is_forgotten_after_the_next_clean_run():
    class Crashing(FakeSyncer):
        def run(self, **_: object) -> SyncReport:
            self.runs += 1
            if self.runs == 1:
                raise ConnectionError("redis blip")
            return SyncReport(requests=1)

    syncer = Crashing(0)
    scheduler = SyncScheduler(syncer, tick_seconds=60)
    assert scheduler.run_once().error == "internal: ConnectionError"  # its text is logged
    assert syncer.store.sync_error == "internal: ConnectionError"
    assert scheduler.run_once().error is None
    assert syncer.store.sync_error is None


def test_a_hand_sync_that_fetched_nothing_is_not_a_success():
    from icalfeed.sync.scheduler import hand_outcome

    spent = SyncReport(requests=0, out_of_budget=True)
    assert hand_outcome(spent, shared=False, problem=None)[0] is False
    assert "nothing fetched" in hand_outcome(spent, shared=False, problem=None)[1]
    done = SyncReport(requests=3)
    assert hand_outcome(done, shared=False, problem="shared store: x") == (
        False,
        done.line() + "; NOT shared with the other instances: shared store: x",
    )
    assert hand_outcome(done, shared=True, problem=None) == (True, done.line())


@needs_redis
def test_two_hand_syncs_at_once_are_both_answered(rclient):
    from icalfeed.data.handsync import RedisHandSync, ask_leader

    answers: list[tuple[bool, str]] = []

    def ask() -> None:
        answers.append(ask_leader(rclient, False, claim_seconds=5, run_seconds=5, show=print))

    askers = [threading.Thread(target=ask) for _ in range(2)]
    for thread in askers:
        thread.start()
    time.sleep(0.5)
    request = RedisHandSync(rclient).take()  # the leader's tick: both at once, one sync
    assert request is not None and len(request.ids) == 2
    RedisHandSync(rclient).finish(request, True, "sync done")
    for thread in askers:
        thread.join(10)
    assert answers == [(True, "sync done"), (True, "sync done")]


@needs_redis
def test_an_unclaimed_hand_sync_is_withdrawn_and_never_run_later(rclient):
    from icalfeed.data.handsync import RedisHandSync, ask_leader

    ok, line = ask_leader(rclient, False, claim_seconds=0.5, run_seconds=1, show=print)
    assert not ok and "no leading instance" in line
    assert RedisHandSync(rclient).take() is None


@needs_redis
def test_the_heartbeat_renews_through_a_redis_error(rclient):
    from icalfeed.data import redisstate

    lease = redisstate.RedisLease(rclient, 1.5)
    assert lease.hold()
    sent, failed = lease._hold, []

    def flaky(**kwargs):
        if not failed:
            failed.append(True)
            raise redisstate.redis.ConnectionError("blip")
        return sent(**kwargs)

    lease._hold = flaky
    lease.start_heartbeat()
    try:
        time.sleep(3.5)  # two lease periods: one failed renewal, then the others
        assert failed and rclient.get("icalfeed:leader") == lease.me.encode()
    finally:
        lease.release()


@needs_redis
def test_an_ex_leader_whose_write_was_refused_serves_what_the_others_do(
    tmp_path, redis_url, fake_ll2
):
    first, first_syncer, client = instance(tmp_path, "a", redis_url, fake_ll2.base_url, lead=True)
    assert first_syncer.run().ok
    client.set("icalfeed:leader", "another-instance", px=60_000)  # ours lapsed, taken
    changed = dict(next(iter(fake_ll2.events.values())), name="Seen only by the ex-leader")
    changed["last_updated"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    fake_ll2.upsert(changed)
    first_syncer.run(force=True)  # its sync ends after the lease is gone: write refused
    assert "not the leader" in (first.storage_error or "")
    SyncScheduler(first_syncer, 60, lease=first_syncer.lease).run_once()  # a follower's tick
    others, _, _ = instance(tmp_path, "b", redis_url, fake_ll2.base_url)
    assert first.snapshot.version == others.snapshot.version
    assert first.last_error is None
