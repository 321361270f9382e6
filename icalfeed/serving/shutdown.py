"""A graceful stop for the waitress server: SIGTERM or SIGINT → stop accepting, finish the
responses in flight (at most `DRAIN_SECONDS`), then the caller's own stop (the sync thread
between two pages, the Redis lease given back), and exit 0.

The signal handler only sets a flag, and starts the caller's `first` step (giving up what
other instances take over at once: the Redis lease) on a thread of its own, so that it does
not wait for the event loop (whose turn may take a second). The event loop notices the flag
at a safe point — the listener's turn at the start of a loop iteration, before any
connection is read or written — and leaves by `Stopping`, which waitress does not catch. A
second signal stops at once.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel

log = logging.getLogger(__name__)
DRAIN_SECONDS = 8.0  # + 1 s for the worker threads + 1 s for the sync thread: 10 s at most
IDLE_GRACE_SECONDS = 0.2


class Stopping(BaseException):
    """Leaves waitress's event loop (it catches only SystemExit and KeyboardInterrupt)."""


class GracefulStop:
    """Installed on a waitress server's listeners; `serve` runs it until a signal."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self._first: Callable[[], None] = lambda: None

    def install(self, listener: Any) -> None:
        """Check for a requested stop on the listener's turn of the event loop; its
        connections' answers say `Connection: close` from then on (`dispatch`), so that
        keep-alive clients reconnect (and find the door closed) instead of sending another
        request on a connection about to close."""
        listener.stopping = self.requested
        own_readable = listener.readable

        def readable() -> bool:
            if self.requested.is_set():
                raise Stopping
            return bool(own_readable())

        listener.readable = readable

    def serve(
        self,
        server: Any,
        listeners: list[Any],
        first: Callable[[], None],
        then: Callable[[float], None],
    ) -> None:
        """Run the server until SIGTERM/SIGINT; then `first` (give up what others may take
        over at once), drain, and `then(seconds)` (wait for the rest, at most that long)."""
        self._first = first
        previous = {
            number: signal.signal(number, self._on_signal)
            for number in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            server.run()
        except Stopping:
            pass
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
        log.info("stopping: no new connections; finishing the responses in flight")
        started = time.monotonic()
        first()  # done already if a signal started it; twice does no harm
        left = drain(server, listeners, DRAIN_SECONDS)
        server.task_dispatcher.shutdown(cancel_pending=False, timeout=1)
        then(1.0)
        log.info(
            "stopped in %.1f s%s",
            time.monotonic() - started,
            f" ({left} connection(s) cut at the deadline)" if left else "",
        )

    def _on_signal(self, number: int, frame: FrameType | None) -> None:
        if self.requested.is_set():
            raise SystemExit(1)  # asked twice: stop now
        self.requested.set()
        threading.Thread(target=self._first, name="icalfeed-stop", daemon=True).start()


def drain(server: Any, listeners: list[Any], seconds: float) -> int:
    """Close the listening sockets, then run the event loop until every connection has
    finished its requests and sent its answers (idle ones are closed), at most `seconds`.
    Returns how many connections were still busy at the deadline."""
    socket_map: dict[int, Any] = getattr(server, "_map", None) or server.map
    for listener in listeners:
        # Connections the kernel completed but waitress has not accepted yet would be reset
        # by the close: take them in, to be answered like the others.
        for _ in range(listener.adj.backlog):
            before = len(socket_map)
            listener.handle_accept()
            if len(socket_map) == before:
                break
        wasyncore.dispatcher.close(listener)  # not the server's close: its trigger stays
    tarpit = getattr(listeners[0], "tarpit", None) if listeners else None
    if tarpit is not None:
        tarpit.release(float("inf"))  # waiting connections come back, to be closed
    deadline = time.monotonic() + seconds
    idle_since: dict[int, float] = {}
    while True:
        busy, now = 0, time.monotonic()
        for channel in list(socket_map.values()):
            if not isinstance(channel, HTTPChannel):
                continue
            if channel.requests or channel.total_outbufs_len or channel.request is not None:
                busy += 1
                idle_since.pop(id(channel), None)
            elif now - idle_since.setdefault(id(channel), now) >= IDLE_GRACE_SECONDS:
                # Idle for a moment: no request of its client was waiting unread in the
                # kernel (closing on one would reset it). Closed on the loop's next turn.
                channel.will_close = True
        if not busy and not any(isinstance(c, HTTPChannel) for c in socket_map.values()):
            return 0
        if time.monotonic() >= deadline:
            return busy
        wasyncore.loop(timeout=0.05, map=socket_map, count=1)
