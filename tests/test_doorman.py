"""The bare server's connections under slow and silent clients, over real sockets: a deadline
for each request's headers, a limit per address, room made at the connection limit."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from servers import serve_offline

from icalfeed.base.networks import trusted_networks
from icalfeed.serving.doorman import Doorman

FEED = "/events.ics?type=docking"


class Trickle:
    """`count` connections from `sources` (loopback addresses, round robin) that send a
    request's headers one byte every `every` seconds and never finish them (`every` 0:
    silent), until stopped."""

    def __init__(self, port: int, count: int, sources: list[str], every: float) -> None:
        self.sockets: list[socket.socket] = []
        for number in range(count):
            sock = socket.socket()
            sock.bind((sources[number % len(sources)], 0))
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                sock.connect(("127.0.0.1", port))
            self.sockets.append(sock)
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        header = b"GET /events.ics HTTP/1.1\r\nX-Slow: " + b"a" * 100_000
        sent = 0
        while not self._stop.wait(self.every or 1.0):
            if not self.every:
                continue
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.send(header[sent : sent + 1])
            sent += 1

    def still_open(self) -> int:
        """How many the server has not closed (a closed one reads as end of file)."""
        alive = 0
        for sock in self.sockets:
            try:
                alive += sock.recv(1) != b""
            except BlockingIOError:
                alive += 1
            except OSError:
                pass
        return alive

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for sock in self.sockets:
            sock.close()


def feed_seconds(port: int, source: str = "127.0.0.2") -> float:
    """Seconds for a whole feed answer to a new client from `source`."""
    started = time.monotonic()
    with socket.create_connection(
        ("127.0.0.1", port), timeout=10, source_address=(source, 0)
    ) as sock:
        sock.sendall(f"GET {FEED} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    assert b"END:VCALENDAR" in answer
    return time.monotonic() - started


@pytest.fixture
def server(tmp_path) -> Iterator[tuple[int, object]]:
    process, port, log = serve_offline(tmp_path, ICALFEED_HEADER_TIMEOUT_SECONDS="4")
    try:
        yield port, log
    finally:
        process.terminate()
        process.wait(15)


@pytest.mark.parametrize("every", [1.0, 0.0], ids=["trickling", "silent"])
def test_hundreds_of_slow_sockets_from_one_address_leave_others_answered(server, every):
    port, _ = server
    trickle = Trickle(port, 510, ["127.0.0.1"], every)
    try:
        time.sleep(1.5)
        durations = []
        for _ in range(6):  # over several deadlines of the slow ones
            durations.append(feed_seconds(port))
            time.sleep(1)
        assert max(durations) < 2.0, durations
        # The address holds no more than its share (50 by default).
        assert trickle.still_open() <= 50 + 5
    finally:
        trickle.stop()


def test_a_request_that_never_finishes_its_headers_is_closed_at_the_deadline(server):
    port, _ = server
    trickle = Trickle(port, 5, ["127.0.0.3"], 0.5)
    try:
        time.sleep(2)
        assert trickle.still_open() == 5  # within the deadline, bytes still coming
        time.sleep(4)
        assert trickle.still_open() == 0  # 4 s for the headers, however slowly they come
    finally:
        trickle.stop()


def test_at_the_connection_limit_the_longest_waiting_make_room(server):
    port, _ = server
    sources = [f"127.0.1.{n}" for n in range(1, 26)]  # 25 addresses, 21 each: over the 500
    trickle = Trickle(port, 525, sources, 1.0)
    try:
        time.sleep(1.5)
        durations = [feed_seconds(port) for _ in range(3)]
        assert max(durations) < 2.0, durations
    finally:
        trickle.stop()


def test_a_keep_alive_client_that_keeps_asking_is_never_cut(server):
    port, _ = server
    with socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.4", 0)) as sock:
        reader = sock.makefile("rb")
        deadline = time.monotonic() + 6  # past the 4 s deadline
        answered = 0
        while time.monotonic() < deadline:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            status = reader.readline()
            assert status.startswith(b"HTTP/1.1 200"), status
            length = 0
            while (line := reader.readline()) != b"\r\n":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            reader.read(length)
            answered += 1
            time.sleep(0.3)
        assert answered >= 15


# ----------------------------------------------------------------- the rules alone


class Channel(SimpleNamespace):
    """What the doorman reads of a waitress channel."""

    def __init__(self, address: str) -> None:
        super().__init__(
            addr=(address, 1234),
            requests=[],
            total_outbufs_len=0,
            will_close=False,
            connected=True,
            _fileno=7,
            _map={7: self},
        )


def test_per_address_the_longest_waiting_goes_and_trusted_proxies_are_exempt():
    now = [0.0]
    doorman = Doorman(2, 10.0, trusted_networks("10.0.0.1"), clock=lambda: now[0])
    first, second = Channel("192.0.2.1"), Channel("192.0.2.1")
    doorman.opened(first)
    now[0] = 1.0
    doorman.opened(second)
    second.requests = ["busy"]
    third = Channel("192.0.2.1")
    doorman.opened(third)
    assert (first.will_close, second.will_close, third.will_close) == (True, False, False)
    proxied = [Channel("10.0.0.1") for _ in range(10)]
    for channel in proxied:
        doorman.opened(channel)
    assert not any(c.will_close for c in proxied)


def test_the_deadline_counts_from_when_a_connection_began_to_wait():
    doorman = Doorman(10, 4.0, clock=lambda: 0.0)
    slow, busy = Channel("192.0.2.1"), Channel("192.0.2.2")
    doorman.opened(slow)
    doorman.opened(busy)
    busy.total_outbufs_len = 100  # sending a big answer
    doorman.sweep(3.0)
    assert not slow.will_close and busy.waiting_since is None
    busy.total_outbufs_len = 0
    doorman.sweep(4.5)
    assert slow.will_close and not busy.will_close  # busy's wait began at 4.5
    doorman.sweep(8.0)
    assert not busy.will_close
    doorman.sweep(8.6)
    assert busy.will_close


def test_a_connection_just_refused_goes_first_and_at_once_when_in_the_tarpit():
    closed = []
    doorman = Doorman(2, 10.0, clock=lambda: 5.0)
    waiting, refused = Channel("192.0.2.1"), Channel("192.0.2.1")
    doorman.opened(waiting)
    doorman.opened(refused)
    waiting.waiting_since = 1.0  # waited longest
    refused.quiet_until = 5.25  # told to come back later, and parked out of the loop
    refused._map = {}
    refused.handle_close = lambda: closed.append("refused")
    newcomer = Channel("192.0.2.1")
    doorman.opened(newcomer)
    assert closed == ["refused"] and not waiting.will_close and not newcomer.will_close
