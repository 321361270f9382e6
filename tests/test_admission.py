"""Hostile traffic (#13): a flood of unique queries must not starve the subscribers.

Unit tests of the gates (token bucket, render lane, segmented cache, client address), the
gates through the app, and a real server process under a short, bounded flood from
127.0.0.1 while cached requests and a second client (127.0.0.2) are served.
"""

from __future__ import annotations

import http.client
import socket
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from icalendar import Calendar
from servers import serve_offline

from icalfeed import create_app
from icalfeed.base.config import Settings
from icalfeed.base.segmented import SegmentedCache
from icalfeed.serving.admission import ClientBudgets, Refused, RenderLane
from icalfeed.serving.dispatch import (
    TARPIT_SECONDS,
    QuietChannel,
    RefusalAwareTask,
    Tarpit,
    TarpitChannel,
)

ALL = "start=1950-01-01"


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ------------------------------------------------------------------------- the gates


def test_a_bucket_gives_the_burst_then_refills_at_the_rate():
    ticks = Ticks()
    budgets = ClientBudgets(per_minute=30, burst=3, clock=ticks)
    assert [budgets.take("a") for _ in range(3)] == [0, 0, 0]
    assert budgets.take("a") == pytest.approx(2.0)  # 30 a minute: one every 2 s
    assert budgets.take("b") == 0  # another client has its own
    assert budgets.wait("a") == pytest.approx(2.0)  # asking does not spend
    ticks.now += 2.0
    assert budgets.wait("a") == 0 and budgets.take("a") == 0 and budgets.take("a") > 0
    ticks.now += 3600
    assert [budgets.take("a") for _ in range(4)][:3] == [0, 0, 0]  # never above the burst


def test_the_lane_runs_one_lets_few_wait_and_refuses_the_rest():
    lane = RenderLane(lanes=1, queue=1, wait=0.3)
    inside, release = threading.Event(), threading.Event()
    results: list[object] = []

    def slow() -> str:
        inside.set()
        release.wait(5)
        return "done"

    def attempt(work) -> None:
        try:
            results.append(lane.run(work))
        except Refused as refusal:
            results.append(refusal.status)

    first = threading.Thread(target=attempt, args=(slow,))
    first.start()
    inside.wait(5)
    waiting = threading.Thread(target=attempt, args=(lambda: "waited",))
    waiting.start()
    time.sleep(0.05)
    attempt(lambda: "no room")  # the queue (1) is full: refused at once
    assert results == [503]
    waiting.join(5)  # waited its 0.3 s, then refused
    assert results == [503, 503]
    release.set()
    first.join(5)
    assert results[-1] == "done" and lane.run(lambda: "free again") == "free again"


def test_one_off_keys_do_not_evict_the_hot_ones():
    cache: SegmentedCache[bytes] = SegmentedCache(80_000, len)
    for name in ("hot-1", "hot-2"):
        cache.put(name, b"x" * 20_000)
        assert cache.get(name) is not None  # seen twice: protected
    for number in range(500):
        cache.put(f"one-off-{number}", b"y" * 5_000)
    assert cache.get("hot-1") is not None and cache.get("hot-2") is not None
    assert len(cache) < 10


# --------------------------------------------------------------- through the app


@pytest.fixture
def strict(tmp_path, real_admission):
    settings = Settings(
        data_dir=tmp_path / "var", offline=True, client_render_burst=3, client_renders_per_minute=6
    )
    return create_app(settings, start_sync=False).test_client()


def test_over_its_budget_a_client_gets_429_and_cached_feeds_still(strict):
    assert strict.get(f"/events.ics?{ALL}").status_code == 200  # cached from now on
    statuses = [strict.get(f"/events.ics?{ALL}&alarm={n}").status_code for n in range(1, 4)]
    assert statuses == [200, 200, 429]
    refused = strict.get(f"/events.json?{ALL}&alarm=9")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.get_data(as_text=True).startswith("429 ") and refused.data.count(b"\n") == 1
    for method in ("GET", "HEAD"):
        again = strict.open(f"/events.ics?{ALL}", method=method)
        assert again.status_code == 200  # answered by the caches: no render, no budget
    assert Calendar.from_ical(strict.get(f"/events.ics?{ALL}").data).walk("VEVENT")
    # Pages are work too; HEAD of a new query as well.
    assert strict.get("/").status_code == 429 and strict.get("/widget").status_code == 429
    assert strict.head(f"/events.ics?{ALL}&alarm=11").status_code == 429
    # Another address has its own budget.
    other = strict.get(f"/events.ics?{ALL}&alarm=12", environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert other.status_code == 200


def test_forwarded_headers_mint_no_identities_unless_configured(tmp_path, real_admission):
    def app(trusted: str | None):
        settings = Settings(
            data_dir=tmp_path / f"var-{trusted}",
            offline=True,
            client_render_burst=1,
            trusted_proxies=trusted,
        )
        return create_app(settings, start_sync=False).test_client()

    open_door = app(None)
    first = open_door.get(f"/events.ics?{ALL}&alarm=1", headers={"X-Forwarded-For": "1.1.1.1"})
    second = open_door.get(f"/events.ics?{ALL}&alarm=2", headers={"X-Forwarded-For": "2.2.2.2"})
    assert (first.status_code, second.status_code) == (200, 429)
    behind_proxy = app("127.0.0.1")
    for number, address in enumerate(("1.1.1.1", "2.2.2.2", "3.3.3.3")):
        response = behind_proxy.get(
            f"/events.ics?{ALL}&alarm={number + 1}", headers={"X-Forwarded-For": address}
        )
        assert response.status_code == 200, address
    again = behind_proxy.get(f"/events.ics?{ALL}&alarm=9", headers={"X-Forwarded-For": "1.1.1.1"})
    assert again.status_code == 429


# ------------------------------------------------------------------------ the tarpit


class Listener:
    """What a waitress channel needs of its server."""

    def __init__(self, socket_map: dict[int, object], limit: int = 100) -> None:
        self.active_channels: dict[int, object] = {}
        self.readable = lambda: True
        self._map = socket_map
        self.adj = type("Adjustments", (), {"connection_limit": limit})


def test_a_refused_connection_leaves_the_loop_until_its_time_is_up():
    from waitress.adjustments import Adjustments

    socket_map: dict[int, object] = {}
    tarpit, listener = Tarpit(), Listener(socket_map)
    tarpit.install(listener)
    assert listener.channel_class is TarpitChannel and TarpitChannel.task_class is RefusalAwareTask
    ours, theirs = socket.socketpair()
    channel = TarpitChannel(listener, ours, ("127.0.0.1", 1), Adjustments(), map=socket_map)
    fileno = channel._fileno
    assert socket_map == {fileno: channel} and channel.readable()

    channel.quiet_until = time.monotonic() + 60  # what a refusal does
    channel.__class__ = QuietChannel
    assert channel.readable() is False  # the loop's question parks it: nothing left to send
    assert socket_map == {} and len(tarpit) == 1
    assert listener.readable() is True  # a turn of the loop before its time: still parked
    assert socket_map == {} and len(tarpit) == 1

    channel.quiet_until = 0  # its time is up: the next turn puts it back, itself again
    tarpit._parked[0] = (0, 0, channel)
    listener.readable()
    assert socket_map == {fileno: channel} and len(tarpit) == 0
    assert type(channel) is TarpitChannel and channel.readable()
    channel.close()
    theirs.close()


def test_parked_connections_count_against_the_connection_limit():
    from waitress.adjustments import Adjustments

    socket_map: dict[int, object] = {}
    tarpit, listener = Tarpit(), Listener(socket_map, limit=2)
    tarpit.install(listener)
    pairs = [socket.socketpair() for _ in range(2)]
    channels = [
        TarpitChannel(listener, ours, ("127.0.0.1", 1), Adjustments(), map=socket_map)
        for ours, _ in pairs
    ]
    for channel in channels:
        channel.quiet_until = time.monotonic() + 60
        channel.__class__ = QuietChannel
        channel.readable()
    assert socket_map == {} and len(tarpit) == 2
    assert listener.readable() is False  # no new connection accepted while at the limit
    for channel in channels:
        channel.close()
    for _, theirs in pairs:
        theirs.close()


def test_a_refused_connection_that_is_to_close_is_closed_not_parked():
    from waitress.adjustments import Adjustments

    socket_map: dict[int, object] = {}
    tarpit, listener = Tarpit(), Listener(socket_map)
    tarpit.install(listener)
    ours, theirs = socket.socketpair()
    channel = TarpitChannel(listener, ours, ("127.0.0.1", 1), Adjustments(), map=socket_map)
    channel.will_close = True  # e.g. the client asked for Connection: close
    channel.quiet_until = time.monotonic() + 60
    channel.__class__ = QuietChannel
    assert channel.readable() is False and channel.writable()
    assert channel._fileno in socket_map and len(tarpit) == 0  # the loop closes it first
    channel.handle_write()
    assert socket_map == {} and theirs.recv(10) == b""
    theirs.close()


# ------------------------------------------------------------------ a real server


@pytest.fixture
def server(tmp_path) -> Iterator[int]:
    process, port, _ = serve_offline(
        tmp_path,
        ICALFEED_LOG_LEVEL="WARNING",
        ICALFEED_CLIENT_RENDER_BURST="10",
        ICALFEED_CLIENT_RENDERS_PER_MINUTE="60",
    )
    yield port
    process.terminate()
    process.wait(10)


def get(port: int, path: str, source: str = "127.0.0.1") -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=20, source_address=(source, 0)
    )
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_a_flood_gets_429_or_503_while_cached_feeds_and_other_clients_are_served(server):
    port = server
    cached = f"/events.ics?{ALL}"
    assert get(port, cached)[0] == 200
    stop = time.monotonic() + 4
    flood: Counter[int] = Counter()
    missing_retry: list[int] = []
    lock = threading.Lock()

    def flooder(worker: int) -> None:
        number = 0
        while time.monotonic() < stop and number < 400:  # bounded in time and count
            number += 1
            path = f"/events.ics?{ALL}&alarm={(worker * 400 + number) % 9000 + 1}&search=a"
            status, headers, _ = get(port, path)
            with lock:
                flood[status] += 1
                if status in (429, 503) and "Retry-After" not in headers:
                    missing_retry.append(status)

    workers = [threading.Thread(target=flooder, args=(n,)) for n in range(12)]
    for worker in workers:
        worker.start()
    time.sleep(0.5)
    latencies = []
    while time.monotonic() < stop - 0.5:
        started = time.monotonic()
        status, _, body = get(port, cached)
        latencies.append(time.monotonic() - started)
        assert status == 200 and body.startswith(b"BEGIN:VCALENDAR")
    # A second client address gets its new query rendered during the flood.
    status, _, body = get(port, f"/events.ics?{ALL}&alarm=4242", source="127.0.0.2")
    assert status == 200 and b"TRIGGER:-P2DT22H42M" in body
    for worker in workers:
        worker.join(30)
    assert set(flood) <= {200, 429, 503} and flood[429] > 0, flood
    assert missing_retry == []
    assert statistics.median(latencies) < 0.25 and len(latencies) >= 5, latencies


def test_a_refused_keep_alive_connection_waits_in_the_tarpit_and_is_then_answered(server):
    port = server
    assert get(port, f"/events.ics?{ALL}")[0] == 200
    keep = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    statuses: Counter[int] = Counter()
    number = 0
    while statuses[429] == 0 and number < 40:  # spend the budget of 10 on one connection
        number += 1
        keep.request("GET", f"/events.ics?{ALL}&alarm={number}")
        response = keep.getresponse()
        response.read()
        statuses[response.status] += 1
    assert statuses[429] == 1 and statuses[200] >= 5, statuses
    assert response.getheader("Retry-After") and response.getheader("Connection") != "close"

    # The same connection's next request waits out the tarpit; another connection does not.
    started = time.monotonic()
    keep.request("GET", "/healthz")
    other_started = time.monotonic()
    assert get(port, "/healthz")[0] == 200
    other = time.monotonic() - other_started
    response = keep.getresponse()
    assert response.status == 200 and response.read()
    waited = time.monotonic() - started
    keep.close()
    assert waited >= TARPIT_SECONDS * 0.8, waited
    assert other < waited, (other, waited)
