"""`icalfeed sync` in a Redis deployment: it syncs for the whole cluster, or says why not.

The snapshot every instance serves lives in Redis and only the lease holder may write it, so
a sync by hand cannot simply write its own copy. Two ways, tried in this order:

1. No instance leads (none runs, or the leader died and its lease ran out): the command takes
   the lease for the length of its sync, publishes the result as a leader does, and gives
   the lease back. The instances pick the new snapshot up on their next tick.
2. An instance leads: the command queues a request in Redis; the leader's scheduler takes
   every waiting request on its next tick (even while it backs off), marks each claimed,
   runs one sync for them (`--full` if any asked for it), relays its progress and always
   records an outcome, which each command prints. A request nobody claimed in time is
   withdrawn atomically (never one a leader just took).

Exit 0 only when the result reached the shared snapshot the instances serve.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import redis

from .redisstate import PREFIX

REQUESTS = PREFIX + "sync:requests"  # a list: every command's request, in order
KEPT_SECONDS = 3600  # claim marks, progress and outcome stay readable this long
# KEYS: requests.  ARGV: the request.  Withdraws it only if no leader took it (1), else 0.
_WITHDRAW = "return redis.call('LREM', KEYS[1], 1, ARGV[1])"


def _key(ident: str, what: str) -> str:
    return f"{PREFIX}sync:{ident}:{what}"


@dataclass(frozen=True, slots=True)
class HandRequest:
    """What a leader takes at once: every waiting request, answered by one sync."""

    ids: tuple[str, ...]
    full: bool


class RedisHandSync:
    """The leader's side: take the waiting requests, relay progress, record the outcome."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def take(self) -> HandRequest | None:
        """Every waiting request, removed from the queue and marked as claimed."""
        ids: list[str] = []
        full = False
        while (raw := self.client.lpop(REQUESTS)) is not None:
            try:
                data = json.loads(raw)  # type: ignore[arg-type]  # one item: bytes
                ident = str(data["id"])
            except (ValueError, KeyError, TypeError):
                continue
            self.client.set(_key(ident, "claimed"), "1", ex=KEPT_SECONDS)
            ids.append(ident)
            full = full or bool(data.get("full"))
        return HandRequest(tuple(ids), full) if ids else None

    def progress(self, request: HandRequest, line: str) -> None:
        for ident in request.ids:
            key = _key(ident, "progress")
            try:
                self.client.rpush(key, line)
                self.client.expire(key, KEPT_SECONDS)
            except redis.RedisError:
                pass  # progress is a courtesy; the outcome is what counts

    def finish(self, request: HandRequest, ok: bool, line: str) -> None:
        value = json.dumps({"ok": ok, "line": line})
        for ident in request.ids:
            self.client.set(_key(ident, "outcome"), value, ex=KEPT_SECONDS)


def ask_leader(
    client: redis.Redis,
    full: bool,
    *,
    claim_seconds: float,
    run_seconds: float,
    show: Callable[[str], None],
    poll: float = 0.25,
) -> tuple[bool, str]:
    """Ask the leading instance to sync now and wait for it: `(reached the shared snapshot,
    the line to print)`. Gives up when no leader takes the request within `claim_seconds`
    (then the request is withdrawn), or the sync does not end within `run_seconds`."""
    ident = uuid.uuid4().hex
    request = json.dumps({"id": ident, "full": full, "asked_at": time.time()})
    client.rpush(REQUESTS, request)
    client.expire(REQUESTS, int(claim_seconds) + 60)
    withdraw = client.register_script(_WITHDRAW)
    claimed = False
    shown = 0
    deadline = time.monotonic() + claim_seconds
    while True:
        outcome = client.get(_key(ident, "outcome"))
        lines = client.lrange(_key(ident, "progress"), shown, -1)
        for line in lines:
            show(line.decode() if isinstance(line, bytes) else str(line))
        shown += len(lines)
        if outcome:
            data = json.loads(outcome)
            return bool(data["ok"]), str(data["line"])
        if not claimed and client.get(_key(ident, "claimed")):
            claimed = True
            deadline = time.monotonic() + run_seconds
        if time.monotonic() >= deadline:
            if not claimed and withdraw(keys=[REQUESTS], args=[request]):
                return False, f"no leading instance took the request within {claim_seconds:.0f} s"
            if not claimed:
                claimed = True  # taken at the last moment: wait for it after all
                deadline = time.monotonic() + run_seconds
                continue
            return False, f"the leader did not finish the sync within {run_seconds:.0f} s"
        time.sleep(poll)
