"""Shared state in Redis, for several instances behind one name: the snapshot, the request
budget and the leader lease.  Used only when ``ICALFEED_REDIS_URL`` is set.

- The snapshot is one key (its JSON) plus a stamp key; followers poll the stamp.
- The budget is a sorted set of request times and a pause key, changed by one Lua script,
  so the hourly ceiling holds whatever the number of instances.
- The lease is one key holding its holder's identity with a time to live, taken when free and
  renewed by its holder (a Lua script each), given up by compare-and-delete, which announces
  it on a channel: one leader syncs; when it stops or steps down the others hear of it at
  once, and if it dies, the lease runs out and another instance takes over.

Redis errors never stop an instance from serving: it keeps its last good snapshot.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

import redis

from ..base.disclosure import SHARED_NOT_LEADER, shared_store_reason
from ..ll2.budget import WINDOW_SECONDS, BudgetStatus, next_request_time

PREFIX = "icalfeed:"
_BAD_PAUSE = -1  # what the spend script answers when the pause key was not a time
log = logging.getLogger(__name__)

# Times in these scripts come from the Redis server's clock (TIME), never from the
# instances': one instance with a fast clock must not expire the others' requests.
_NOW = "local t = redis.call('TIME'); local now = tonumber(t[1]) + tonumber(t[2]) / 1e6\n"
# The pause key as a number (0 when unset); nil when it holds anything else (a value written
# by hand, a key of another type), which the scripts treat as a pause, never as an error.
_PAUSED = """
local function paused_until(key)
  local raw = redis.pcall('GET', key)
  if raw == false then return 0 end
  if type(raw) ~= 'string' then return nil end
  local value = tonumber(raw)
  if value == nil or value ~= value or value == math.huge or value == -math.huge then
    return nil
  end
  return value
end
"""
# KEYS: requests zset, pause key.  ARGV: window, limit, member.  Returns 1 if spent, 0 if
# not, -1 if not because the pause key held something else than a number: it is replaced by
# a pause of one window from now, so a bad value stops the syncs for an hour, not for good.
_SPEND = (
    _NOW
    + _PAUSED
    + """
local window = tonumber(ARGV[1])
local paused = paused_until(KEYS[2])
if paused == nil then
  redis.call('SET', KEYS[2], now + window, 'EX', math.ceil(window) + 60)
  return -1
end
if paused > now then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
-- A request time from the future (the Redis host's clock stepped back) counts as made now:
-- kept, it would block its slot for the length of the step on top of the hour.
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')) do
  redis.call('ZADD', KEYS[1], now, member)
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(window) + 60)
return 1
"""
)
# KEYS: pause key.  ARGV: seconds from now.  The later of the two pauses wins (a pause key
# that is not a number is replaced).
_PAUSE = (
    _NOW
    + _PAUSED
    + """
local until_at = now + tonumber(ARGV[1])
local current = paused_until(KEYS[1])
if current == nil or until_at > current then
  redis.call('SET', KEYS[1], until_at, 'EX', math.ceil(tonumber(ARGV[1])) + 3600)
end
return 1
"""
)
# KEYS: requests zset, pause key.  ARGV: window.  Returns {now, paused until, times...}; the
# pause as stored (checked by the caller), 'not-a-number' for a key of another type.
_STATUS = (
    _NOW
    + """
local items = redis.call('ZRANGEBYSCORE', KEYS[1], now - tonumber(ARGV[1]), '+inf', 'WITHSCORES')
local raw = redis.pcall('GET', KEYS[2])
if raw == false then raw = '0' elseif type(raw) ~= 'string' then raw = 'not-a-number' end
local out = {tostring(now), raw}
for i = 2, #items, 2 do out[#out + 1] = items[i] end
return out
"""
)
# KEYS: lease, snapshot, stamp.  ARGV: me, body, stamp.  Writes only for the lease holder.
_WRITE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], ARGV[3])
return 1
"""
# KEYS: lease.  ARGV: me, ttl ms.  Returns 1 if `me` holds the lease afterwards.
_HOLD = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


# KEYS: lease.  ARGV: me, channel.  Deletes the lease only if `me` holds it (never another's),
# and tells every instance listening on `channel` that it is free.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[1])
  return 1
end
return 0
"""
# Where a released lease is announced (pub/sub: only the instances listening then hear it;
# the others find it free by polling, see `scheduler`).
RELEASED = PREFIX + "leader:released"


def connect(url: str) -> redis.Redis:
    """A client with short timeouts: a stuck Redis must not stall requests or syncs."""
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


class LeaseLost(RuntimeError):
    """This instance no longer holds the leader lease: its writes would race the leader's."""

    public_reason = SHARED_NOT_LEADER


class RedisSnapshots:
    """The snapshot JSON shared by every instance; only the leader may write it."""

    def __init__(self, client: redis.Redis, owner: str) -> None:
        self.client = client
        self.owner = owner  # the lease identity of this instance
        self._write = client.register_script(_WRITE)

    def read(self) -> bytes | None:
        return _bytes(self.client.get(PREFIX + "snapshot"))

    def stamp(self) -> str | None:
        value = _bytes(self.client.get(PREFIX + "snapshot:stamp"))
        return value.decode() if value else None

    def write(self, body: bytes, stamp: str) -> None:
        keys = [PREFIX + "leader", PREFIX + "snapshot", PREFIX + "snapshot:stamp"]
        if not self._write(keys=keys, args=[self.owner, body, stamp]):
            raise LeaseLost("not the leader any more, so the snapshot was not shared")


class RedisBudget:
    """Same interface as `budget.RequestBudget`, shared through Redis."""

    def __init__(
        self, client: redis.Redis, limit: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.client = client
        self.limit = limit
        self.clock = clock
        self._spend = client.register_script(_SPEND)
        self._pause = client.register_script(_PAUSE)
        self._status = client.register_script(_STATUS)
        self._keys = [PREFIX + "budget:requests", PREFIX + "budget:paused_until"]
        self._spent = threading.local()  # .member: this thread's last request, to refund

    def try_spend(self) -> bool:
        member = uuid.uuid4().hex
        try:
            args: list[str | int | float] = [WINDOW_SECONDS, self.limit, member]
            spent = self._spend(keys=self._keys, args=args)
        except redis.RedisError as exc:
            # Without the shared count nobody can know what is left: spend nothing.
            log.warning("budget unavailable (Redis: %s); not contacting Launch Library 2", exc)
            return False
        if spent == _BAD_PAUSE:
            log.warning(
                "%s held something that is not a time; replaced by a pause of %.0f s",
                self._keys[1],
                WINDOW_SECONDS,
            )
        self._spent.member = member if spent == 1 else None
        return bool(spent == 1)

    def refund(self) -> None:
        """Remove this thread's last request from the shared set (once); when Redis is away
        it stays counted, which only errs on the safe side."""
        member, self._spent.member = getattr(self._spent, "member", None), None
        if member is None:
            return
        try:
            self.client.zrem(self._keys[0], member)
        except redis.RedisError as exc:
            log.warning("could not give back a request that was never sent (Redis: %s)", exc)

    def pause_until(self, until: float) -> None:
        """Pause everyone until `until` (this instance's clock), kept in Redis time."""
        try:
            self._pause(keys=self._keys[1:], args=[max(0.0, until - self.clock())])
        except redis.RedisError as exc:
            log.warning("could not record the upstream's pause in Redis: %s", exc)

    def status(self) -> BudgetStatus:
        """The shared budget; never raises. When Redis cannot be read, or holds a value that
        is not a time, the hour counts as used up (`problem` says why)."""
        local = self.clock()
        try:
            answer = self._status(keys=self._keys, args=[WINDOW_SECONDS])
            server_now, paused = _time(answer[0]), _time(answer[1])
            # Back into this instance's clock for display and scheduling.
            stamps = sorted(
                min(_time(stamp), server_now) - server_now + local for stamp in answer[2:]
            )
        except (redis.RedisError, ValueError, TypeError, IndexError) as exc:
            log.warning("budget status unavailable (Redis: %s)", exc)
            return self._used_up(local, shared_store_reason(exc))
        paused_local = paused - server_now + local if paused > server_now else None
        next_at = next_request_time(stamps, self.limit, paused_local, local)
        return BudgetStatus(self.limit, len(stamps), paused_local, next_at, tuple(stamps))

    def _used_up(self, local: float, problem: str) -> BudgetStatus:
        """What is safe to assume when the shared budget cannot be known: nothing left for
        an hour (whether a pause is on cannot be told)."""
        next_at = local + WINDOW_SECONDS
        return BudgetStatus(self.limit, self.limit, None, next_at, problem=problem)


class RedisLease:
    """Leadership: held by one instance at a time, renewed by it, given up when it stops,
    steps down or stalls.

    One lease call is on the wire at a time (`_calls`), so a release waits for a renewal
    already sent instead of racing it; after `release` no renewal is sent again, and after
    `step_down(s)` none for `s` seconds.
    """

    def __init__(self, client: redis.Redis, ttl_seconds: float) -> None:
        self.client = client
        self.ttl_seconds = ttl_seconds
        self.ttl_ms = int(ttl_seconds * 1000)
        self.me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._hold = client.register_script(_HOLD)
        self._release = client.register_script(_RELEASE)
        self.held = False
        self._stop = threading.Event()
        self._calls = threading.Lock()
        self._not_before = 0.0  # monotonic: no taking the lease before this
        # This instance means to lead: it took the lease and has not given it up or seen
        # another holder. A Redis error does not end it (the heartbeat keeps trying).
        self._leading = False
        self._unavailable = False  # the last call met a Redis error (logged once)

    def on_release(self, wake: Callable[[], None]) -> None:
        """Call `wake` whenever an instance gives the lease up (a thread listening on the
        `RELEASED` channel, reconnecting while Redis is away), until this one releases."""

        def listen() -> None:
            while not self._stop.is_set():
                try:
                    with self.client.pubsub(ignore_subscribe_messages=True) as channel:
                        channel.subscribe(RELEASED)
                        while not self._stop.is_set():
                            if channel.get_message(timeout=1.0) is not None:
                                wake()
                except Exception as exc:  # Redis away: polling still finds a free lease
                    log.debug("lease notices unavailable (%s)", exc)
                    self._stop.wait(1.0)

        threading.Thread(target=listen, name="icalfeed-lease-notices", daemon=True).start()

    def start_heartbeat(self, vital: Callable[[], bool] | None = None) -> None:
        """Renew the lease every third of its life on a thread of its own, so a long sync or
        a long back-off never lets it lapse while this instance is alive and `vital` (its
        sync making progress) says so; when it does not, the lease is let go."""
        interval = self.ttl_ms / 3000

        def beat() -> None:
            while not self._stop.wait(interval):
                try:
                    if vital is None or vital():
                        if self._leading:
                            self.hold()
                    elif self._leading:
                        log.warning("the sync has made no progress; letting the lease go")
                        self.step_down(self.ttl_seconds)
                except Exception:  # the heartbeat must outlive any surprise
                    log.exception("lease heartbeat failed")

        threading.Thread(target=beat, name="icalfeed-lease", daemon=True).start()

    def hold(self) -> bool:
        """Take or renew the lease; False when another instance has it, Redis is away, or
        this instance gave it up (for good, or for a while)."""
        with self._calls:
            if self._stop.is_set() or time.monotonic() < self._not_before:
                self.held = False
                return False
            try:
                args: list[str | int] = [self.me, self.ttl_ms]
                self.held = bool(self._hold(keys=[PREFIX + "leader"], args=args))
                self._leading = self.held
                self._unavailable = False
            except redis.RedisError as exc:
                # Followers ask every second: said once, until it answers again.
                (log.debug if self._unavailable else log.warning)(
                    "leader lease unavailable (Redis: %s)", exc
                )
                self._unavailable = True
                self.held = False
            return self.held

    def step_down(self, seconds: float) -> None:
        """Give the lease up and do not take it again for `seconds`."""
        with self._calls:
            self._not_before = time.monotonic() + seconds
            self._give_up()

    def release(self) -> None:
        """Give the lease up for good (at shutdown), so another instance leads at once."""
        self._stop.set()
        with self._calls:  # a renewal already sent lands before the delete, never after
            self._give_up()

    def _give_up(self) -> None:
        self._leading = False
        try:
            self._release(keys=[PREFIX + "leader"], args=[self.me, RELEASED])
        except redis.RedisError as exc:  # it runs out by itself
            log.warning("could not give up the lease (Redis: %s); it expires", exc)
        self.held = False


def _time(value: object) -> float:
    """A time read from Redis; ValueError when it is not a finite number."""
    if not isinstance(value, bytes | str | int | float):
        raise TypeError(f"not a time: {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not a finite time: {value!r}")
    return number


def _bytes(value: bytes | str | None) -> bytes | None:
    """A stored value as bytes (our client never decodes responses; the type allows it)."""
    return value.encode() if isinstance(value, str) else value
