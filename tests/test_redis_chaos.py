"""Chaos on a real Redis: once three `icalfeed serve` processes (each with its own data dir,
kept across restarts) serve the first sync from the fake LL2, for a bounded time and in a
seeded random order they are stopped (SIGTERM, SIGKILL), started again, paused and resumed
(SIGSTOP/SIGCONT), the leader is paused in the middle of a sync, syncs are asked for by hand
(as `icalfeed sync` asks: a request in Redis the leader takes), events are edited upstream,
and Redis is restarted (killed, started empty on the same port). Each upstream answer takes
0.2 s, so faults land in the middle of syncs.

Checked about every 0.4 s, faults or not:

- One leader: the Redis key names one of our processes, never one paused or stopped for
  longer than a lease, and an instance that reports ``role: leader`` holds the key (read just
  before or just after its answer). `role` is the instance's cached view, refreshed by every
  lease call (the heartbeat, every third of the lease, and every tick): a claim the key does
  not back (an ex-leader just resumed, a leader across a Redis restart) fails the test only
  if it lasts longer than one lease period.
- The ceiling (12 requests an hour), in Redis (its count, every /healthz ``used_last_hour``)
  and as the fake LL2 saw it. A Redis restart wipes the shared count, so the honest claim is
  per Redis lifetime: between two Redis kills the fake LL2 receives at most the ceiling plus
  one request per instance process alive at the opening kill (a request paid for just before
  a kill, by a process then paused, may arrive after it; a process sends what it paid for
  before paying again). The syncs asked by hand make the ceiling bind, not only hold.

After the faults (every instance running, Redis up), within two lease periods plus ten
seconds: every instance serves /events.ics?start=1957-01-01 with the same ETag and reports
all the fake LL2's events in /healthz, exactly one, the key's holder, reports ``leader``; it
stays so for two more ticks, and every instance then reports ``status: ok``.

Two product bugs this test found are fixed and stay covered: an ex-leader that lost its
lease during a sync kept the result it could not share (another ETag, ``degraded``); a Redis
error while the leader recorded a hand sync's outcome left ``degraded`` behind.

``ICALFEED_CHAOS_SEED`` replays a run's random draws (the seed is in every failure); which
instance leads at a given moment, and so the target of some faults, depends on timing.
``ICALFEED_CHAOS_SECONDS`` sets the length of the fault phase (default 40).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import SPARE_CADENCE_ENV
from ports import free_ports

REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS is None, reason="redis-server is not installed (make redis)")

ROOT = Path(__file__).resolve().parents[1]
FEED = "/events.ics?start=1957-01-01"
LEASE = 3  # ICALFEED_LEASE_SECONDS
TICK = 1  # ICALFEED_SYNC_TICK_SECONDS
CEILING = 12  # ICALFEED_REQUESTS_PER_HOUR
CONVERGE_SECONDS = 2 * LEASE + 10
UPSTREAM_DELAY = 0.2  # seconds each fake LL2 answer takes
SAMPLE_SECONDS = 0.4
HEALTH_TIMEOUT = 10.0  # generous: two loaded cores
DOWN = "<redis down>"  # the holder when Redis does not answer


def _get(url: str, timeout: float = 5.0) -> tuple[int, bytes, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read(), {k.lower(): v for k, v in response.headers.items()}


def _health(base: str, timeout: float = HEALTH_TIMEOUT) -> dict[str, Any] | None:
    try:
        return json.loads(_get(base + "/healthz", timeout)[1])
    except (OSError, ValueError):
        return None


def _holder_pid(holder: str | None) -> int | None:
    """The pid in a lease identity "host:pid:rand"."""
    if holder in (None, DOWN):
        return None
    try:
        return int(holder.rsplit(":", 2)[1])  # type: ignore[union-attr]
    except (IndexError, ValueError):
        return None


class RedisServer:
    """Debian's redis-server on a fixed loopback port, without persistence."""

    def __init__(self, port: int, folder: Path) -> None:
        self.port, self.folder = port, folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS is not None
        self.process = subprocess.Popen(
            [
                *(REDIS, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.folder)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server did not listen on port {self.port} within 10 s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


class Instance:
    """One `icalfeed serve` process, started again on the same port and data dir."""

    def __init__(self, number: int, port: int, folder: Path, env: dict[str, str]) -> None:
        self.name = f"i{number}"
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log = folder / f"{self.name}.log"
        self.env = {**env, "ICALFEED_DATA_DIR": str(folder / self.name)}
        self.process: subprocess.Popen[bytes] | None = None
        self.paused = False
        self.unbacked_since: float | None = None  # reporting leader without the key
        self.frozen: dict[int, float] = {}  # pid -> when it was paused or stopped

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def running(self) -> bool:
        return self.alive and not self.paused

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> None:
        with open(self.log, "a") as log:
            log.write(f"--- started at {time.time():.3f}\n")
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "icalfeed", "serve", "--port", str(self.port)],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.paused = False
        self.unbacked_since = None

    def send(self, sig: signal.Signals) -> None:
        """SIGSTOP or SIGCONT."""
        assert self.process is not None
        self.process.send_signal(sig)
        if sig == signal.SIGSTOP:
            self.paused = True
            self.unbacked_since = None
            self.frozen[self.process.pid] = time.monotonic()
        else:
            self.paused = False
            self.frozen.pop(self.process.pid, None)

    def stop(self, sig: signal.Signals) -> None:
        """SIGTERM or SIGKILL, and wait for the end (a paused process is continued, for a
        SIGTERM to be delivered)."""
        assert self.process is not None
        self.process.send_signal(sig)
        self.frozen.setdefault(self.process.pid, time.monotonic())
        if self.paused:
            self.process.send_signal(signal.SIGCONT)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(f"{self.name} outlived {sig.name} by 10 s") from None
        finally:
            self.paused = False
            self.unbacked_since = None

    def cleanup(self) -> None:
        if self.alive:
            assert self.process is not None
            if self.paused:
                self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(10)

    def tail(self, lines: int = 25) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(f"    {line}" for line in text[-lines:])


@dataclass
class View:
    """What one instance serves."""

    instance: Instance
    health: dict[str, Any] | None
    etag: str | None

    def line(self, expected: int) -> str:
        h = self.health
        if h is None:
            return f"{self.instance.name} (pid {self.instance.pid}): no /healthz"
        return (
            f"{self.instance.name} (pid {self.instance.pid}): role={h['role']} "
            f"events={h['events']}/{expected} source={h['source']} version={h['data_version']} "
            f"etag={self.etag} status={h['status']} last_error={h['last_error']!r}"
        )


class Chaos:
    """The cluster, its faults, and the checks made at every step."""

    def __init__(self, tmp_path: Path, fake_ll2: Any, seed: int) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.seed = seed
        self.rng = random.Random(seed)
        self.fake = fake_ll2
        self.started = time.monotonic()
        redis_port, *ports = free_ports(4)
        self.redis = RedisServer(redis_port, tmp_path)
        self.client = redis.Redis(
            host="127.0.0.1",
            port=redis_port,
            socket_timeout=1,
            socket_connect_timeout=1,
            retry=Retry(NoBackoff(), 0),  # a Redis that is down answers at once
        )
        self.pool = ThreadPoolExecutor(len(ports))
        env = {
            # The test's own ICALFEED_CHAOS_* are not settings: a server would refuse them.
            **{k: v for k, v in os.environ.items() if not k.startswith("ICALFEED_CHAOS_")},
            "ICALFEED_UPSTREAM_URL": fake_ll2.base_url,
            "ICALFEED_REDIS_URL": self.redis.url,
            "ICALFEED_SYNC_TICK_SECONDS": str(TICK),
            "ICALFEED_LEASE_SECONDS": str(LEASE),
            "ICALFEED_REQUESTS_PER_HOUR": str(CEILING),
            "ICALFEED_LOG_LEVEL": "WARNING",
            **SPARE_CADENCE_ENV,
        }
        self.instances = [Instance(n, port, tmp_path, env) for n, port in enumerate(ports)]
        self.pids: set[int] = set()  # every instance process ever started
        self.actions: list[str] = []
        self.names = {key: event["name"] for key, event in fake_ll2.events.items()}
        self.edits = 0
        # The fake LL2's requests, by arrival; the window opens at each Redis kill.
        self.arrivals: list[float] = []
        self._lock = threading.Lock()
        self.in_flight = 0
        self.overlaps = 0  # requests that arrived while another was being answered
        self.window_start = float("-inf")
        self.window_slack = 0
        self.windows: list[tuple[int, int]] = []  # closed windows: (requests, slack)
        self.most_used = 0  # the highest count Redis showed
        self.double_claims = 0  # samples with two instances reporting leader (transient)
        self.unbacked_claims = 0  # samples with a claim the key did not back (transient)
        self.longest_unbacked = 0.0  # seconds, at most, of one such claim
        self.samples = 0

    # ----------------------------------------------------------------- reporting

    def context(self) -> str:
        logs = "\n".join(f"  {i.name} (pid {i.pid}):\n{i.tail()}" for i in self.instances)
        return "last actions:\n  " + "\n  ".join(self.actions[-25:]) + f"\nlogs:\n{logs}"

    def fail(self, message: str) -> None:
        pytest.fail(
            f"[ICALFEED_CHAOS_SEED={self.seed}] at {self.elapsed():.1f}s: {message}\n"
            + self.context(),
            pytrace=False,
        )

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def note(self, action: str) -> None:
        self.actions.append(f"{self.elapsed():6.1f}s {action}")

    def summary(self) -> str:
        windows = [*self.windows, (self.in_window(), self.window_slack)]
        return (
            f"seed {self.seed}: {len(self.actions)} actions, {self.samples} samples, "
            f"{len(self.arrivals)} upstream requests ({self.overlaps} while another was in "
            f"flight), {self.edits} upstream edits; per Redis lifetime (requests, slack): "
            f"{windows}; most Redis counted {self.most_used}/{CEILING}; transient samples: "
            f"{self.double_claims} with two leaders, {self.unbacked_claims} with a claim the "
            f"key did not back (the longest lasted {self.longest_unbacked:.1f}s)"
        )

    # ----------------------------------------------------------------- Redis and upstream

    def holder(self) -> str | None:
        """The lease key's value, None when free, DOWN when Redis does not answer."""
        import redis

        try:
            value = self.client.get("icalfeed:leader")
        except redis.RedisError:
            return DOWN
        return value.decode() if isinstance(value, bytes) else value

    def redis_used(self) -> int | None:
        import redis

        try:
            seconds, micros = self.client.time()
            since = seconds + micros / 1e6 - 3600
            return int(self.client.zcount("icalfeed:budget:requests", since, "+inf"))
        except redis.RedisError:
            return None

    def shared_version(self) -> str | None:
        """The data version of the snapshot in Redis (its stamp is "version@time")."""
        with contextlib.suppress(Exception):
            stamp = self.client.get("icalfeed:snapshot:stamp")
            return stamp.decode().partition("@")[0] if stamp else None
        return None

    def on_request(self, _seen: Any) -> None:
        """The fake LL2's hook: note the arrival, answer slowly."""
        with self._lock:
            self.arrivals.append(time.monotonic())
            self.overlaps += self.in_flight > 0
            self.in_flight += 1
        try:
            time.sleep(UPSTREAM_DELAY)
        finally:
            with self._lock:
                self.in_flight -= 1

    def in_window(self) -> int:
        with self._lock:
            return sum(1 for t in self.arrivals if t > self.window_start)

    # ----------------------------------------------------------------- the checks

    def observe(self) -> None:
        """One sample of every invariant."""
        self.samples += 1
        before, before_at = self.holder(), time.monotonic()
        running = [i for i in self.instances if i.running]
        healths = self.pool.map(_health, [i.base for i in running])
        answers = {i: h for i, h in zip(running, healths, strict=True) if h is not None}
        after = self.holder()
        now = time.monotonic()
        backed: set[int] = set()
        for holder, read_at in ((before, before_at), (after, now)):
            if holder in (None, DOWN):
                continue
            pid = _holder_pid(holder)
            if pid is None or pid not in self.pids:
                self.fail(f"the lease key names {holder!r}, none of our instances")
            assert pid is not None
            backed.add(pid)
            # Nobody renews for a paused or dead process: its lease runs out.
            since = min((i.frozen[pid] for i in self.instances if pid in i.frozen), default=read_at)
            if read_at - since > LEASE + 1:
                self.fail(
                    f"the lease key names {holder!r}, paused or stopped {read_at - since:.1f}s ago"
                )
        claims = [i for i, h in answers.items() if h.get("role") == "leader"]
        self.double_claims += len(claims) > 1
        unbacked = [i for i in claims if i.pid not in backed]
        self.unbacked_claims += bool(unbacked)
        for instance in self.instances:
            if instance in unbacked:
                if instance.unbacked_since is None:
                    instance.unbacked_since = now
                    self.note(f"  {instance.name} reports leader; the key: {before!r} / {after!r}")
                lasted = now - instance.unbacked_since
                self.longest_unbacked = max(self.longest_unbacked, lasted)
                if lasted > LEASE:
                    roles = {i.name: h.get("role") for i, h in answers.items()}
                    self.fail(
                        f"{instance.name} (pid {instance.pid}) has reported role leader for "
                        f"{lasted:.1f}s while the lease key said {before!r} / {after!r}; "
                        f"roles {roles}"
                    )
            elif instance in answers and instance.unbacked_since is not None:
                lasted = now - instance.unbacked_since  # at most: since the last sample
                self.longest_unbacked = max(self.longest_unbacked, lasted)
                self.note(f"  {instance.name} no longer claims ({lasted:.1f}s)")
                instance.unbacked_since = None
        used = self.redis_used()
        if used is not None:
            self.most_used = max(self.most_used, used)
            if used > CEILING:
                self.fail(f"Redis counts {used} requests in the hour, over the ceiling {CEILING}")
        for instance, health in answers.items():
            shown = health["budget"]["used_last_hour"]
            if shown > CEILING:
                self.fail(f"{instance.name} reports {shown} requests used, over {CEILING}")
        seen = self.in_window()
        if seen > CEILING + self.window_slack:
            self.fail(
                f"the fake LL2 received {seen} requests since the last Redis restart, over the "
                f"ceiling {CEILING} + {self.window_slack} (instances alive at the restart)"
            )

    def wait(self, seconds: float) -> None:
        """Sample the invariants for `seconds` (at least once)."""
        deadline = time.monotonic() + seconds
        while True:
            self.observe()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(SAMPLE_SECONDS, left))

    # ----------------------------------------------------------------- the faults

    def start_instance(self, instance: Instance) -> None:
        instance.start()
        assert instance.pid is not None
        self.pids.add(instance.pid)
        self.note(f"start {instance.name} -> pid {instance.pid}")

    def restart_redis(self, down: float) -> None:
        self.windows.append((self.in_window(), self.window_slack))
        self.window_start = time.monotonic()
        self.window_slack = sum(1 for i in self.instances if i.alive)
        self.redis.kill()
        self.note(f"redis killed (down {down:.1f}s)")
        self.wait(down)
        self.redis.start()
        self.note("redis started")

    def ask_sync(self, full: bool) -> None:
        """What `icalfeed sync` leaves for the leader (see `handsync.ask_leader`)."""
        import redis

        request = {"id": uuid.uuid4().hex, "full": full, "asked_at": time.time()}
        try:
            self.client.set("icalfeed:sync:request", json.dumps(request), ex=15)
            self.note(f"hand sync asked (full={full})")
        except redis.RedisError as exc:
            self.note(f"hand sync not asked: {exc}")

    def edit_upstream(self) -> None:
        """Rename one event upstream, stamped now: the next sync reads it."""
        keys = sorted(self.names, key=str)
        key = keys[self.rng.randrange(len(keys))]
        self.edits += 1
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        name = f"{self.names[key]} (chaos edit {self.edits})"
        self.fake.upsert({**self.fake.events[key], "name": name, "last_updated": stamp})
        self.note(f"upstream edit {self.edits} of event {key}")

    def pause_leader_mid_sync(self) -> None:
        """Edit upstream, ask a sync, and pause the leader once upstream sees its first
        request: it lies between the news and sharing them."""
        self.edit_upstream()
        self.ask_sync(False)
        seen = len(self.arrivals)
        deadline = time.monotonic() + 2 * TICK + 1
        while len(self.arrivals) == seen and time.monotonic() < deadline:
            time.sleep(0.02)
        pid = _holder_pid(self.holder())
        leader = next((i for i in self.instances if i.running and i.pid == pid), None)
        if leader is None:
            self.note("no running leader to pause")
            return
        leader.send(signal.SIGSTOP)
        during = "mid-sync" if len(self.arrivals) > seen else "no request seen"
        self.note(f"SIGSTOP {leader.name}, the leader ({during})")

    def step(self) -> None:
        """One random fault."""
        alive = [i for i in self.instances if i.alive]
        running = [i for i in alive if not i.paused]
        paused = [i for i in alive if i.paused]
        dead = [i for i in self.instances if not i.alive]
        options: list[tuple[str, float]] = [("redis", 1.2), ("ask", 1.2), ("edit", 1.2)]
        if running:
            options += [("pause", 2.5), ("midsync", 1.0)]
        if paused:
            options.append(("resume", 3.0))
        if alive:
            options += [("term", 1.0), ("kill", 1.0)]
        if dead:
            options.append(("start", 3.0))
        names, weights = zip(*options, strict=True)
        choice = self.rng.choices(names, weights)[0]
        if choice == "redis":
            self.restart_redis(self.rng.choice([0.0, self.rng.uniform(0.2, 2.5)]))
        elif choice == "ask":
            self.ask_sync(self.rng.random() < 0.5)
        elif choice == "edit":
            self.edit_upstream()
        elif choice == "midsync":
            self.pause_leader_mid_sync()
        elif choice == "pause":
            instance = self.rng.choice(running)
            instance.send(signal.SIGSTOP)
            self.note(f"SIGSTOP {instance.name}")
        elif choice == "resume":
            instance = self.rng.choice(paused)
            instance.send(signal.SIGCONT)
            self.note(f"SIGCONT {instance.name}")
        elif choice in ("term", "kill"):
            instance = self.rng.choice(alive)
            sig = signal.SIGTERM if choice == "term" else signal.SIGKILL
            instance.stop(sig)
            self.note(f"{sig.name} {instance.name} (pid {instance.pid})")
        else:
            self.start_instance(self.rng.choice(dead))

    def end_faults(self) -> None:
        """Every instance running, Redis up, no sync asked for."""
        if self.redis.process is None:
            self.redis.start()
        for instance in self.instances:
            if instance.paused:
                instance.send(signal.SIGCONT)
                self.note(f"SIGCONT {instance.name} (faults end)")
            elif not instance.alive:
                self.start_instance(instance)
        with contextlib.suppress(Exception):  # Redis just started: nothing to withdraw
            self.client.delete("icalfeed:sync:request")
        self.note("faults end")

    # ----------------------------------------------------------------- convergence

    def views(self) -> list[View]:
        def view(instance: Instance) -> View:
            try:
                status, _, headers = _get(instance.base + FEED, HEALTH_TIMEOUT)
                etag = headers.get("etag") if status == 200 else None
            except OSError:
                etag = None
            return View(instance, _health(instance.base), etag)

        return list(self.pool.map(view, self.instances))

    def agreed(self, views: list[View], backfilled: bool = False) -> bool:
        """Same ETag, every event synced (the packaged sample has as many), and one leader:
        the key's holder; `backfilled`: the history read to the end, too."""
        expected = len(self.fake.events)
        if any(v.health is None or v.etag is None for v in views):
            return False
        if len({v.etag for v in views}) != 1:
            return False
        for h in (v.health for v in views):
            assert h is not None
            if h["source"] != "snapshot" or h["events"] != expected:
                return False
            if backfilled and not h["backfill_complete"]:
                return False
        leaders = [v.instance for v in views if v.health["role"] == "leader"]  # type: ignore[index]
        pid = _holder_pid(self.holder())
        return len(leaders) == 1 and leaders[0].pid == pid

    def show(self, views: list[View]) -> str:
        expected = len(self.fake.events)
        lines = [v.line(expected) for v in views]
        lines.append(f"lease key: {self.holder()!r}; shared version: {self.shared_version()}")
        return "\n  ".join(lines)

    def judge(self, views: list[View], when: str) -> None:
        """Fail for views that do not agree."""
        self.fail(f"[ICALFEED_CHAOS_SEED={self.seed}] no agreement {when}:\n  {self.show(views)}")

    def converge(self) -> float:
        """Seconds until every instance serves the same thing; judged past the deadline."""
        ended = time.monotonic()
        while True:
            self.observe()
            views = self.views()
            took = time.monotonic() - ended
            if self.agreed(views):
                return took
            if took > CONVERGE_SECONDS:
                self.judge(views, f"{took:.1f}s after the faults ended")
            time.sleep(0.5)

    def healthy(self, views: list[View]) -> None:
        """Every instance reports ok."""
        if any(v.health is None or v.health["status"] != "ok" for v in views):
            message = f"not ok after converging:\n  {self.show(views)}"
            self.fail(f"[ICALFEED_CHAOS_SEED={self.seed}] {message}")

    def cleanup(self) -> None:
        for instance in self.instances:
            try:
                instance.cleanup()
            except Exception as exc:  # one stuck process must not leave the others running
                print(f"cleanup of {instance.name}: {exc}", file=sys.stderr)
        self.redis.kill()
        self.client.close()
        self.pool.shutdown()


def test_chaos_keeps_one_leader_the_ceiling_and_converges(tmp_path, fake_ll2):
    """Steady state, then ~40 s of random faults checked at every step, then convergence."""
    seed = int(os.environ.get("ICALFEED_CHAOS_SEED") or time.time_ns() % 2**32)
    seconds = float(os.environ.get("ICALFEED_CHAOS_SECONDS") or 40)
    print(f"ICALFEED_CHAOS_SEED={seed}")
    chaos = Chaos(tmp_path, fake_ll2, seed)
    fake_ll2.on_request = chaos.on_request
    try:
        try:
            chaos.redis.start()
            for instance in chaos.instances:
                chaos.start_instance(instance)
            # The steady state first: all three serve the first sync (one leader did it).
            deadline = time.monotonic() + 45
            while not chaos.agreed(views := chaos.views(), backfilled=True):
                if time.monotonic() > deadline:
                    chaos.fail(
                        f"the first sync did not reach every instance:\n  {chaos.show(views)}"
                    )
                chaos.wait(0.5)
            chaos.note("steady state; faults begin")
            faults_end = time.monotonic() + seconds
            while time.monotonic() < faults_end:
                chaos.step()
                chaos.wait(chaos.rng.uniform(0.3, 2.5))
            chaos.end_faults()
        except AssertionError as exc:  # our own set-up and fault helpers
            chaos.fail(str(exc))
        took = chaos.converge()
        chaos.note(f"converged in {took:.1f}s")
        chaos.wait(2 * TICK)  # and it stays so
        views = chaos.views()
        if not chaos.agreed(views):
            chaos.judge(views, "two ticks after converging")
        chaos.healthy(views)
        print(f"converged in {took:.1f}s:\n  {chaos.show(views)}")
    finally:
        fake_ll2.on_request = None
        print("\n".join(chaos.actions))
        print(chaos.summary())
        chaos.cleanup()
