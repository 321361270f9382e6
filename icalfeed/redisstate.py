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
import time
import uuid
from collections.abc import Callable

import redis

from .budget import WINDOW_SECONDS, BudgetStatus

PREFIX = "icalfeed:"
log = logging.getLogger(__name__)

# KEYS: requests zset, pause key.  ARGV: now, window, limit, member.  Returns 1 if spent.
_SPEND = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > tonumber(ARGV[1]) then return 0 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(ARGV[2]) + 60)
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


class RedisSnapshots:
    """The snapshot JSON shared by every instance."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def read(self) -> bytes | None:
        return self.client.get(PREFIX + "snapshot")

    def stamp(self) -> str | None:
        value = self.client.get(PREFIX + "snapshot:stamp")
        return value.decode() if value else None

    def write(self, body: bytes, stamp: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.set(PREFIX + "snapshot", body)
        pipe.set(PREFIX + "snapshot:stamp", stamp)
        pipe.execute()


class RedisBudget:
    """Same interface as `budget.RequestBudget`, shared through Redis."""

    def __init__(
        self, client: redis.Redis, limit: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.client = client
        self.limit = limit
        self.clock = clock
        self._spend = client.register_script(_SPEND)
        self._keys = [PREFIX + "budget:requests", PREFIX + "budget:paused_until"]

    def try_spend(self) -> bool:
        try:
            member = f"{self.clock():.6f}:{uuid.uuid4().hex[:8]}"
            args = [self.clock(), WINDOW_SECONDS, self.limit, member]
            return bool(self._spend(keys=self._keys, args=args))
        except redis.RedisError as exc:
            # Without the shared count nobody can know what is left: spend nothing.
            log.warning("budget unavailable (Redis: %s); not contacting Launch Library 2", exc)
            return False

    def pause_until(self, until: float) -> None:
        try:
            current = float(self.client.get(self._keys[1]) or 0)
            self.client.set(self._keys[1], max(current, until), ex=int(WINDOW_SECONDS * 2))
        except redis.RedisError as exc:
            log.warning("could not record the upstream's pause in Redis: %s", exc)

    def status(self) -> BudgetStatus:
        now = self.clock()
        try:
            stamps = [
                s
                for _, s in self.client.zrangebyscore(
                    self._keys[0], now - WINDOW_SECONDS, "+inf", withscores=True
                )
            ]
            paused = float(self.client.get(self._keys[1]) or 0) or None
        except redis.RedisError:
            return BudgetStatus(self.limit, self.limit, None, now + WINDOW_SECONDS)
        next_at = now
        if len(stamps) >= self.limit:
            next_at = sorted(stamps)[len(stamps) - self.limit] + WINDOW_SECONDS
        if paused and paused > next_at:
            next_at = paused
        active = paused if paused and paused > now else None
        return BudgetStatus(self.limit, len(stamps), active, next_at)


class RedisLease:
    """Leadership: held by one instance at a time, renewed by it, lost when it stops."""

    def __init__(self, client: redis.Redis, ttl_seconds: float) -> None:
        self.client = client
        self.ttl_ms = int(ttl_seconds * 1000)
        self.me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._hold = client.register_script(_HOLD)
        self.held = False

    def hold(self) -> bool:
        """Take or renew the lease; False when another instance has it or Redis is away."""
        try:
            self.held = bool(self._hold(keys=[PREFIX + "leader"], args=[self.me, self.ttl_ms]))
        except redis.RedisError as exc:
            log.warning("leader lease unavailable (Redis: %s)", exc)
            self.held = False
        return self.held
