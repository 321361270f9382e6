"""Leadership among instances sharing one Redis: what the sync's scheduler asks of a lease
(`redisstate.RedisLease` is the one there is)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Lease(Protocol):
    """Leadership among instances (see `redisstate.RedisLease`)."""

    held: bool
    ttl_seconds: float

    def hold(self) -> bool: ...
    def on_release(self, wake: Callable[[], None]) -> None: ...
    def start_heartbeat(self, vital: Callable[[], bool] | None = None) -> None: ...
    def step_down(self, seconds: float) -> None: ...
    def release(self) -> None: ...
