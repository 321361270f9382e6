"""Shared state in Redis, for several instances behind one name: the snapshot, the request
budget and the leader lease.  Used only when ``ICALFEED_REDIS_URL`` is set.

- The snapshot is one key (its JSON) plus a stamp key; followers poll the stamp.
- The budget is a sorted set of request times and a pause key, changed by one Lua script,
  so the hourly ceiling holds whatever the number of instances.
- The lease is ``SET key me NX PX ttl``, renewed by its holder every tick: one leader syncs;
  if it dies, the lease runs out and another instance takes over.

Redis errors never stop an instance from serving: it keeps its last good snapshot.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

import redis

from .budget import WINDOW_SECONDS, BudgetStatus

PREFIX = "icalfeed:"
log = logging.getLogger(__name__)

# Times in these scripts come from the Redis server's clock (TIME), never from the
# instances': one instance with a fast clock must not expire the others' requests.
_NOW = "local t = redis.call('TIME'); local now = tonumber(t[1]) + tonumber(t[2]) / 1e6\n"
# KEYS: requests zset, pause key.  ARGV: window, limit, member.  Returns 1 if spent.
_SPEND = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then return 0 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1])) + 60)
return 1
"""
)
# KEYS: pause key.  ARGV: seconds from now.  The later of the two pauses wins.
_PAUSE = (
    _NOW
    + """
local until_at = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_at > current then
  redis.call('SET', KEYS[1], until_at, 'EX', math.ceil(tonumber(ARGV[1])) + 3600)
end
return 1
"""
)
# KEYS: requests zset, pause key.  ARGV: window.  Returns {now, paused until, times...}.
_STATUS = (
    _NOW
    + """
local items = redis.call('ZRANGEBYSCORE', KEYS[1], now - tonumber(ARGV[1]), '+inf', 'WITHSCORES')
local out = {tostring(now), redis.call('GET', KEYS[2]) or '0'}
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


def connect(url: str) -> redis.Redis:
    """A client with short timeouts: a stuck Redis must not stall requests or syncs."""
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


class LeaseLost(RuntimeError):
    """This instance no longer holds the leader lease: its writes would race the leader's."""


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
            raise LeaseLost("not the leader any more; the snapshot was not shared")


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

    def try_spend(self) -> bool:
        try:
            args: list[str | int | float] = [WINDOW_SECONDS, self.limit, uuid.uuid4().hex]
            return bool(self._spend(keys=self._keys, args=args))
        except redis.RedisError as exc:
            # Without the shared count nobody can know what is left: spend nothing.
            log.warning("budget unavailable (Redis: %s); not contacting Launch Library 2", exc)
            return False

    def pause_until(self, until: float) -> None:
        """Pause everyone until `until` (this instance's clock), kept in Redis time."""
        try:
            self._pause(keys=self._keys[1:], args=[max(0.0, until - self.clock())])
        except redis.RedisError as exc:
            log.warning("could not record the upstream's pause in Redis: %s", exc)

    def status(self) -> BudgetStatus:
        local = self.clock()
        try:
            answer = self._status(keys=self._keys, args=[WINDOW_SECONDS])
        except redis.RedisError:
            return BudgetStatus(self.limit, self.limit, None, local + WINDOW_SECONDS)
        server_now, paused = float(answer[0]), float(answer[1])
        # Back into this instance's clock for display and scheduling.
        stamps = sorted(float(stamp) - server_now + local for stamp in answer[2:])
        paused_local = paused - server_now + local if paused > server_now else None
        next_at = local
        if len(stamps) >= self.limit:
            next_at = stamps[len(stamps) - self.limit] + WINDOW_SECONDS
        if paused_local and paused_local > next_at:
            next_at = paused_local
        return BudgetStatus(self.limit, len(stamps), paused_local, next_at)


class RedisLease:
    """Leadership: held by one instance at a time, renewed by it, lost when it stops."""

    def __init__(self, client: redis.Redis, ttl_seconds: float) -> None:
        self.client = client
        self.ttl_ms = int(ttl_seconds * 1000)
        self.me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._hold = client.register_script(_HOLD)
        self.held = False
        self._stop = threading.Event()

    def start_heartbeat(self) -> None:
        """Renew the lease every third of its life on a thread of its own, so a long sync or
        a long back-off never lets it lapse while this instance is alive."""
        interval = self.ttl_ms / 3000

        def beat() -> None:
            while not self._stop.wait(interval):
                self.hold()

        threading.Thread(target=beat, name="icalfeed-lease", daemon=True).start()

    def release(self) -> None:
        """Give the lease up at shutdown, so another instance leads at once."""
        self._stop.set()
        try:
            if self.held and self.client.get(PREFIX + "leader") == self.me.encode():
                self.client.delete(PREFIX + "leader")
        except redis.RedisError:
            pass
        self.held = False

    def hold(self) -> bool:
        """Take or renew the lease; False when another instance has it or Redis is away."""
        try:
            self.held = bool(self._hold(keys=[PREFIX + "leader"], args=[self.me, self.ttl_ms]))
        except redis.RedisError as exc:
            log.warning("leader lease unavailable (Redis: %s)", exc)
            self.held = False
        return self.held


def _bytes(value: bytes | str | None) -> bytes | None:
    """A stored value as bytes (our client never decodes responses; the type allows it)."""
    return value.encode() if isinstance(value, str) else value
