"""Who may hold one of the server's connections, for the bare server facing the internet.

Waitress keeps a connection as long as bytes keep coming (its idle timer restarts on every
byte) and stops accepting at its connection limit, so a few hundred sockets that trickle
headers a byte at a time would leave every other client unanswered. Three rules, checked in
waitress's event loop on the listener's turn (no thread, no lock):

- **A deadline for each request.** A connection waiting for a request — a new one, or a
  keep-alive one after its answer — must complete the request's headers within
  `header_seconds`, however slowly the bytes come; else it is closed.
- **Connections per address.** At most `per_address` from one client address (trusted
  proxies excepted: every visitor comes through them); one more closes that address's
  longest-waiting connection, or is itself closed when all of them are busy.
- **At the connection limit**, the connection that has waited longest for a request is
  closed so a new client is answered, instead of the new one waiting in the kernel.

A connection is *busy* while a request of its own is being served or its answer is being
sent; only waiting connections are ever closed here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..base.networks import Network, within

# How often the event loop looks for connections past their deadline.
SWEEP_SECONDS = 0.5


class Doorman:
    """Installed on waitress's listeners (see the module docstring)."""

    def __init__(
        self,
        per_address: int,
        header_seconds: float,
        trusted: tuple[Network, ...] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_address = per_address
        self.header_seconds = header_seconds
        self.trusted = trusted
        self.clock = clock
        self.closed = {"deadline": 0, "per_address": 0, "limit": 0}
        self._next_sweep = 0.0
        self._channels: dict[int, Any] = {}  # id → channel, every listener's
        self._by_address: dict[str, set[int]] = {}

    def install(self, listener: Any) -> None:
        """Check the rules on the listener's turn of the event loop."""
        listener.doorman = self
        own_readable = listener.readable

        def readable() -> bool:
            now = self.clock()
            if now >= self._next_sweep:
                self._next_sweep = now + SWEEP_SECONDS
                self.sweep(now)
            if self._full(listener) and not self._closing():
                self._make_room()
            return bool(own_readable())

        listener.readable = readable

    # ------------------------------------------------------------------ the channels

    def opened(self, channel: Any) -> None:
        """A new connection: counted by address, and refused room beyond `per_address`."""
        channel.waiting_since = self.clock()
        address = _address(channel)
        self._channels[id(channel)] = channel
        if within(address, self.trusted):
            return
        ids = self._by_address.setdefault(address, set())
        ids.add(id(channel))
        if len(ids) > self.per_address:
            self.closed["per_address"] += 1
            others = [self._channels[i] for i in ids if i != id(channel)]
            oldest = self._longest_waiting(others)
            self._close(oldest if oldest is not None else channel)

    def served(self, channel: Any) -> None:
        """A connection's requests were answered: its wait for the next one starts now."""
        channel.waiting_since = self.clock()

    def gone(self, channel: Any) -> None:
        """A connection closed, by whoever."""
        self._channels.pop(id(channel), None)
        ids = self._by_address.get(_address(channel))
        if ids is not None:
            ids.discard(id(channel))
            if not ids:
                del self._by_address[_address(channel)]

    def sweep(self, now: float) -> None:
        """Note which connections wait for a request, and close those past the deadline."""
        for channel in list(self._channels.values()):
            if _busy(channel):
                channel.waiting_since = None
            elif channel.waiting_since is None:
                channel.waiting_since = now
            elif now - channel.waiting_since > self.header_seconds:
                self.closed["deadline"] += 1
                self._close(channel)

    # ------------------------------------------------------------------ helpers

    def _full(self, listener: Any) -> bool:
        tarpit = getattr(listener, "tarpit", None)
        parked = len(tarpit) if tarpit is not None else 0
        return bool(len(listener._map) + parked >= listener.adj.connection_limit)

    def _closing(self) -> bool:
        """Whether a connection is already on its way out (closed on the loop's next turn)."""
        return any(c.will_close for c in self._channels.values())

    def _make_room(self) -> None:
        oldest = self._longest_waiting(list(self._channels.values()))
        if oldest is not None:
            self.closed["limit"] += 1
            self._close(oldest)

    def _longest_waiting(self, channels: list[Any]) -> Any | None:
        """The connection to close first: one just refused (in the tarpit, its client was
        told to come back later), else the one waiting longest for a request; never a busy
        one."""
        now = self.clock()
        waiting = [c for c in channels if not _busy(c) and c.connected and not c.will_close]

        def order(channel: Any) -> tuple[bool, float]:
            refused = getattr(channel, "quiet_until", 0.0) > now
            since = channel.waiting_since
            return (not refused, now if since is None else since)

        return min(waiting, key=order, default=None)

    def _close(self, channel: Any) -> None:
        if channel._fileno is not None and channel._fileno not in channel._map:
            # Waiting in the tarpit, out of the event loop: nothing else will look at it
            # before its time is up, and nothing walks it now, so it is closed at once.
            channel.handle_close()
            return
        # As waitress's own timeout does it: the channel closes itself on the loop's next
        # turn (closing it here, while the loop walks its list of sockets, would hand select
        # a closed descriptor).
        channel.will_close = True


def _address(channel: Any) -> str:
    addr = getattr(channel, "addr", None)
    return str(addr[0]) if isinstance(addr, tuple) and addr else str(addr)


def _busy(channel: Any) -> bool:
    """Serving a request, or sending an answer."""
    return bool(channel.requests) or bool(channel.total_outbufs_len)
