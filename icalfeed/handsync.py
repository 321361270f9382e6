"""`icalfeed sync` in a Redis deployment: it syncs for the whole cluster, or says why not.

The snapshot every instance serves lives in Redis and only the lease holder may write it, so
a sync by hand cannot simply write its own copy. Two ways, tried in this order:

1. No instance leads (none runs, or the leader died and its lease ran out): the command takes
   the lease for the length of its sync, publishes the result as a leader does, and gives
   the lease back. The instances pick the new snapshot up on their next tick.
2. An instance leads: the command leaves a request in Redis; the leader's scheduler takes it
   on its next tick (even while it backs off), runs the sync with the command's `--full`,
   relays its progress and its outcome, which the command prints.

Exit 0 only when the result reached the shared snapshot the instances serve.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

import redis

from .redisstate import PREFIX

REQUEST = PREFIX + "sync:request"
KEPT_SECONDS = 3600  # progress and outcome stay readable this long


def _progress_key(ident: str) -> str:
    return f"{PREFIX}sync:{ident}:progress"


def _outcome_key(ident: str) -> str:
    return f"{PREFIX}sync:{ident}:outcome"


class RedisHandSync:
    """The leader's side: take a waiting request, relay progress, record the outcome."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def take(self) -> tuple[str, bool] | None:
        """The waiting request `(id, full)`, removed so that one leader runs it once."""
        raw = self.client.getdel(REQUEST)
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return str(data["id"]), bool(data.get("full"))
        except (ValueError, KeyError, TypeError):
            return None

    def progress(self, request: str, line: str) -> None:
        key = _progress_key(request)
        try:
            self.client.rpush(key, line)
            self.client.expire(key, KEPT_SECONDS)
        except redis.RedisError:
            pass  # progress is a courtesy; the outcome is what counts

    def finish(self, request: str, ok: bool, line: str) -> None:
        value = json.dumps({"ok": ok, "line": line})
        self.client.set(_outcome_key(request), value, ex=KEPT_SECONDS)


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
    client.set(REQUEST, request, ex=int(claim_seconds) + 5)
    claimed = False
    shown = 0
    deadline = time.monotonic() + claim_seconds
    while time.monotonic() < deadline:
        outcome = client.get(_outcome_key(ident))
        lines = client.lrange(_progress_key(ident), shown, -1)
        for line in lines:
            show(line.decode() if isinstance(line, bytes) else str(line))
        shown += len(lines)
        if outcome:
            data = json.loads(outcome)
            return bool(data["ok"]), str(data["line"])
        if not claimed and client.get(REQUEST) != request.encode():
            claimed = True  # taken (or replaced by another operator's request)
            deadline = time.monotonic() + run_seconds
        time.sleep(poll)
    if not claimed:
        # Withdraw it, unless a leader took it at the last moment.
        if client.get(REQUEST) == request.encode():
            client.delete(REQUEST)
        return False, f"no leading instance took the request within {claim_seconds:.0f} s"
    return False, f"the leader did not finish the sync within {run_seconds:.0f} s"
