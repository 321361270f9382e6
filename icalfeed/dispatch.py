"""How waitress schedules requests, so a flood cannot crowd out the subscribers.

Each refusal costs the server about what serving a stored feed does (a request parsed, a
response sent): a client that ignores Retry-After could take most of the server's time with
429s alone. Two changes to waitress's scheduling, no thread ever held:

* a connection that was just told to come back later (429, or 503 with Retry-After) is not
  read from for `TARPIT_SECONDS`
  (its next request waits in the kernel, not in a thread), so a script flooding over many
  connections is slowed to a few requests a second each;
* the task queue has a fast lane: requests the fast path would answer from its stored
  answers (`FeedFastPath.would_answer`) go first; everything else follows, and is never
  starved: after `HOT_STREAK` fast ones in a row, one of the others goes.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from waitress.channel import HTTPChannel
from waitress.task import ThreadedTaskDispatcher, WSGITask

# Fast-lane tasks served in a row while others wait.
HOT_STREAK = 8
# How long a connection is not read from after a refusal (up to the event loop's one
# second wake-up when nothing else happens).
TARPIT_SECONDS = 0.25
log = logging.getLogger(__name__)


class TwoLanes:
    """The part of a deque waitress's dispatcher uses (append, popleft, len), in two lanes."""

    def __init__(self, is_hot: Callable[[Any], bool]) -> None:
        self._hot: deque[Any] = deque()
        self._cold: deque[Any] = deque()
        self._is_hot = is_hot
        self._streak = 0

    def append(self, task: Any) -> None:
        try:
            hot = self._is_hot(task)
        except Exception:  # a request we cannot judge is served, in the ordinary lane
            log.debug("could not classify %r", task, exc_info=True)
            hot = False
        (self._hot if hot else self._cold).append(task)

    def popleft(self) -> Any:
        if self._hot and (self._streak < HOT_STREAK or not self._cold):
            self._streak += 1
            return self._hot.popleft()
        self._streak = 0
        return self._cold.popleft() if self._cold else self._hot.popleft()

    def __len__(self) -> int:
        return len(self._hot) + len(self._cold)

    def __bool__(self) -> bool:
        return bool(self._hot or self._cold)


def dispatcher(
    would_answer: Callable[[str, str, str, str], bool], threads: int
) -> ThreadedTaskDispatcher:
    """Waitress's dispatcher with `threads` threads and the two-lane queue; `would_answer`
    takes (method, path, query string, Accept-Encoding) of a parsed request."""

    def is_hot(task: Any) -> bool:
        # Waitress queues the connection; the request it serves next is the first waiting.
        if not task.requests:
            return False
        request = task.requests[0]
        encoding = request.headers.get("ACCEPT_ENCODING", "")
        return would_answer(request.command, request.path, request.query, encoding)

    tasks = ThreadedTaskDispatcher()
    tasks.queue = TwoLanes(is_hot)  # type: ignore[assignment]
    tasks.set_thread_count(threads)
    return tasks


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
