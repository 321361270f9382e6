"""What one instance shares with others: nothing (a data dir of its own, or one shared by
processes on one machine), or, with ``ICALFEED_REDIS_URL``, a snapshot, budget and leader
lease in Redis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..base.config import Settings
from ..ll2.budget import Budget, RequestBudget
from .lease import Lease
from .store import SharedSnapshots

if TYPE_CHECKING:
    from .handsync import RedisHandSync


@dataclass(frozen=True)
class Shared:
    budget: Budget
    snapshots: SharedSnapshots | None = None
    lease: Lease | None = None
    hand: RedisHandSync | None = None  # `icalfeed sync` asking the leader (Redis only)

    @classmethod
    def for_settings(cls, settings: Settings) -> Shared:
        if not settings.redis_url:
            return cls(RequestBudget(settings.data_dir, settings.requests_per_hour))
        from . import redisstate  # imported only where Redis is in use
        from .handsync import RedisHandSync

        client = redisstate.connect(settings.redis_url)
        lease = redisstate.RedisLease(client, settings.lease_seconds)
        return cls(
            budget=redisstate.RedisBudget(client, settings.requests_per_hour),
            snapshots=redisstate.RedisSnapshots(client, owner=lease.me),
            lease=lease,
            hand=RedisHandSync(client),
        )
