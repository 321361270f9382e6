"""A tarpit in waitress's event loop, so a flood cannot crowd out the subscribers.

Each refusal costs the server about what serving a stored feed does (a request parsed, a
response sent): a client that ignores Retry-After could take most of the server's time with
429s alone. So a connection that was just told to come back later (429, or 503 with
Retry-After) is not read from for `TARPIT_SECONDS`: its next request waits in the kernel, not
in a thread, and a script flooding over many connections is slowed to a few requests a
second on each.

A connection in the tarpit is also taken out of the event loop's socket map while it waits:
waitress asks every mapped connection whether it is readable and writable on every turn of
the loop, and under load the loop turns thousands of times a second, so dozens of waiting
flood connections would otherwise tax every subscriber's request. (A queue that served
stored answers first was measured too: judging each request in the event loop cost more than
it won, so waitress keeps its own queue.)
"""

from __future__ import annotations

import heapq
import itertools
import time
from typing import Any

from waitress.channel import HTTPChannel
from waitress.task import WSGITask

# How long a connection is not read from after a refusal (up to the event loop's one
# second wake-up when nothing else happens).
TARPIT_SECONDS = 0.25


class Tarpit:
    """Connections waiting out a refusal, outside the socket map until their time is up.

    Only waitress's event-loop thread parks and releases, so the heap needs no lock.
    """

    def __init__(self) -> None:
        self._parked: list[tuple[float, int, TarpitChannel]] = []
        self._order = itertools.count()

    def install(self, listener: Any) -> None:
        """Give a waitress listener tarpit-aware connections and release them on its turn."""
        listener.channel_class = TarpitChannel
        listener.tarpit = self
        own_readable = listener.readable

        def readable() -> bool:
            if self._parked:
                self.release(time.monotonic())
                # A parked connection is still open: it counts against the connection limit.
                if len(listener._map) + len(self._parked) >= listener.adj.connection_limit:
                    return False
            return bool(own_readable())

        listener.readable = readable

    def park(self, channel: TarpitChannel) -> None:
        """Take a connection out of the loop until its `quiet_until`."""
        if channel._fileno is not None:
            channel._map.pop(channel._fileno, None)
        heapq.heappush(self._parked, (channel.quiet_until, next(self._order), channel))

    def release(self, now: float) -> None:
        """Put back every connection whose time is up."""
        while self._parked and self._parked[0][0] <= now:
            _, _, channel = heapq.heappop(self._parked)
            _turn(channel, TarpitChannel)
            if channel._fileno is not None:  # not closed meanwhile
                channel._map[channel._fileno] = channel

    def __len__(self) -> int:
        return len(self._parked)


class RefusalAwareTask(WSGITask):
    """Puts its connection in the tarpit when the answer was a refusal; closes it after the
    answer once the server is stopping (`shutdown`)."""

    def build_response_header(self) -> bytes:
        stopping = getattr(self.channel.server, "stopping", None)
        if stopping is not None and stopping.is_set():
            self.set_close_on_finish()
        header: bytes = super().build_response_header()
        return header

    def execute(self) -> None:
        super().execute()
        if self.status[:3] == "429" or (
            # A busy render lane (or no data yet): the client was told when to come back.
            self.status[:3] == "503"
            and any(n.lower() == "retry-after" for n, _ in self.response_headers)
        ):
            channel = self.channel
            assert isinstance(channel, TarpitChannel)
            channel.quiet_until = time.monotonic() + TARPIT_SECONDS
            _turn(channel, QuietChannel)


class TarpitChannel(HTTPChannel):
    """Waitress's connection, whose refused requests put it in the tarpit. Its readability
    check is waitress's own: the event loop asks it of every connection on every turn, so
    only a connection just refused pays for a second look (`QuietChannel`)."""

    task_class = RefusalAwareTask
    quiet_until = 0.0
    waiting_since: float | None = None  # since when it waits for a request (`doorman`)
    # waitress's own attributes (its asyncore dispatcher's), which its stubs leave out
    _map: dict[int, Any]
    _fileno: int | None

    def __init__(self, server: Any, sock: Any, addr: Any, adj: Any, map: Any = None) -> None:
        super().__init__(server, sock, addr, adj, map)
        doorman = getattr(server, "doorman", None)
        if doorman is not None:
            doorman.opened(self)

    def del_channel(self, map: Any = None) -> None:
        super().del_channel(map)
        doorman = getattr(self.server, "doorman", None)
        if doorman is not None:
            doorman.gone(self)

    def service(self) -> None:
        # A request arrived: the deadline for the next one starts after this answer.
        self.waiting_since = None
        try:
            super().service()
        finally:
            doorman = getattr(self.server, "doorman", None)
            if doorman is not None:
                doorman.served(self)


class QuietChannel(TarpitChannel):
    """A connection just refused: once its answer is sent it leaves the loop until
    `quiet_until` (`Tarpit.park`), then it is itself again."""

    def readable(self) -> bool:
        if time.monotonic() >= self.quiet_until:
            _turn(self, TarpitChannel)
            return bool(HTTPChannel.readable(self))
        tarpit = getattr(self.server, "tarpit", None)
        if tarpit is not None and not self.requests and not self.writable() and self.connected:
            tarpit.park(self)
        return False


def _turn(channel: TarpitChannel, into: type[TarpitChannel]) -> None:
    """Change what a connection is: the loop asks a connection in the tarpit one more
    question (`QuietChannel`), and only while it is there."""
    channel.__class__ = into
