"""A tarpit in waitress's event loop, so a flood cannot crowd out the subscribers.

Each refusal costs the server about what serving a stored feed does (a request parsed, a
response sent): a client that ignores Retry-After could take most of the server's time with
429s alone. So a connection that was just told to come back later (429, or 503 with
Retry-After) is not read from for `TARPIT_SECONDS`: its next request waits in the kernel, not
in a thread, and a script flooding over many connections is slowed to a few requests a
second on each. (A queue that served stored answers first was measured too: judging each
request in the event loop cost more than it won, so waitress keeps its own queue.)
"""

from __future__ import annotations

import time

from waitress.channel import HTTPChannel
from waitress.task import WSGITask

# How long a connection is not read from after a refusal (up to the event loop's one
# second wake-up when nothing else happens).
TARPIT_SECONDS = 0.25


class RefusalAwareTask(WSGITask):
    """Puts its connection in the tarpit when the answer was a refusal."""

    def execute(self) -> None:
        super().execute()
        if self.status[:3] == "429" or (
            # A busy render lane (or no data yet): the client was told when to come back.
            self.status[:3] == "503"
            and any(n.lower() == "retry-after" for n, _ in self.response_headers)
        ):
            self.channel.quiet_until = time.monotonic() + TARPIT_SECONDS
            self.channel.__class__ = QuietChannel


class TarpitChannel(HTTPChannel):
    """Waitress's connection, whose refused requests put it in the tarpit. Its readability
    check is waitress's own: the event loop asks it of every connection on every turn, so
    only a connection in the tarpit pays for a second look (`QuietChannel`)."""

    task_class = RefusalAwareTask
    quiet_until = 0.0


class QuietChannel(TarpitChannel):
    """A connection in the tarpit: not read from until `quiet_until`, then itself again."""

    def readable(self) -> bool:
        if time.monotonic() < self.quiet_until:
            return False
        self.__class__ = TarpitChannel
        return bool(HTTPChannel.readable(self))
