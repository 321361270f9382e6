"""Deployment as operators run it: real `icalfeed serve` processes behind Debian's nginx with
the shipped configuration (deploy/nginx), and the shipped systemd units (deploy/systemd).

Clients are told apart by their source address: each connects from its own loopback address
(127.0.0.2, 127.0.0.3 ...), nginx appends it to X-Forwarded-For, and the instances trust
127.0.0.1, where nginx connects from.
"""

from __future__ import annotations

import http.client
import itertools
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import SPARE_CADENCE_ENV
from fake_ll2 import FakeLL2
from icalendar import Calendar
from ll2data import upstream_events
from nginxtools import DEPLOY, NGINX, check, nginx_conf, running_nginx
from ports import free_ports
from servers import serve_offline

needs_nginx = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (make test installs it as root)"
)
ALL = "start=1957-01-01"
MAX_AGE = 3
_queries = itertools.count(1)


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def get(
    port: int,
    path: str,
    source: str = "127.0.0.1",
    headers: dict[str, str] | None = None,
    method: str = "GET",
) -> Answer:
    """One request from the loopback address `source`."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=20, source_address=(source, 0)
    )
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


_direct_sources = itertools.count(1)


def direct(port: int, path: str, headers: dict[str, str] | None = None) -> Answer:
    """A request straight to an instance, from a loopback address of its own each time (so
    the test's own polling never meets a render budget)."""
    number = next(_direct_sources)
    return get(port, path, f"127.0.{1 + number // 250}.{1 + number % 250}", headers)


def new_query() -> str:
    """A feed URL nobody asked for yet: work for the app, past every cache."""
    return f"/events.ics?{ALL}&alarm={next(_queries) % 600 + 1},{next(_queries) % 600 + 1}"


# --------------------------------------------------------------- the bare server, first


def test_under_icalfeed_serve_forwarded_clients_have_budgets_of_their_own(tmp_path):
    """The reproduced defect: waitress dropped X-Forwarded-For before the app saw it, so
    behind a proxy every visitor shared the proxy's one budget."""
    process, port, log = serve_offline(
        tmp_path,
        ICALFEED_TRUSTED_PROXIES="127.0.0.1",
        ICALFEED_CLIENT_RENDER_BURST="2",
        ICALFEED_CLIENT_RENDERS_PER_MINUTE="1",
    )
    try:
        for number in range(5):
            client = {"X-Forwarded-For": f"203.0.113.{number + 10}"}
            statuses = [get(port, new_query(), headers=client).status for _ in range(3)]
            assert statuses == [200, 200, 429], (number, statuses)
        # The client's own Forwarded header is not the one the proxy writes.
        spoofed = [
            get(
                port,
                new_query(),
                headers={"X-Forwarded-For": "203.0.113.50", "Forwarded": f"for=198.51.100.{n}"},
            ).status
            for n in range(3)
        ]
        assert spoofed == [200, 200, 429]
        # IPv6: one /64 is one client.
        rotating = [
            get(port, new_query(), headers={"X-Forwarded-For": f"2001:db8:5:6::{n + 1:x}"}).status
            for n in range(3)
        ]
        assert rotating == [200, 200, 429]
    finally:
        process.terminate()
        process.wait(15)
    logged = log.read_text()
    assert "203.0.113.14 - - [" in logged and "2001:db8:5:6::3 - - [" in logged
    assert "198.51.100." not in logged


# ------------------------------------------------------------------ behind nginx


@dataclass
class Deployment:
    nginx: int
    instances: list[int]
    processes: list[subprocess.Popen[bytes]]
    logs: list[Path]
    upstream: FakeLL2
    env: dict[str, str]

    def logged(self) -> str:
        return "".join(log.read_text() for log in self.logs)

    def access_lines(self, client: str) -> list[str]:
        """The instances' access-log lines of `client`."""
        return [line for line in self.logged().splitlines() if line.startswith(f"{client} - - [")]


def _wait_healthy(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            answer = get(port, "/healthz")
            if answer.status == 200 and b'"source": "snapshot"' in answer.body.replace(
                b'":"', b'": "'
            ):
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"instance on {port} never served synced data")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    if NGINX is None:
        pytest.skip("nginx is not installed (make test installs it as root)")
    folder = tmp_path_factory.mktemp("deployment")
    upstream = FakeLL2(upstream_events()).start()
    env = {
        **os.environ,
        **SPARE_CADENCE_ENV,
        "ICALFEED_UPSTREAM_URL": upstream.base_url,
        "ICALFEED_API_KEY": "test-key",
        "ICALFEED_REQUESTS_PER_HOUR": "200",
        "ICALFEED_DATA_DIR": str(folder / "shared"),
        "ICALFEED_SYNC_TICK_SECONDS": "1",
        "ICALFEED_TRUSTED_PROXIES": "127.0.0.1",
        "ICALFEED_CLIENT_RENDER_BURST": "2",
        "ICALFEED_CLIENT_RENDERS_PER_MINUTE": "1",
        "ICALFEED_CACHE_MAX_AGE": str(MAX_AGE),
        "ICALFEED_PUBLIC_URL": "https://calendar.example.org",
    }
    ports = free_ports(2)
    logs = [folder / f"instance-{port}.log" for port in ports]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "icalfeed", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
        )
        for port, log in zip(ports, logs, strict=True)
    ]
    try:
        for port in ports:
            _wait_healthy(port)
        with running_nginx(folder / "nginx", ports) as (port, _):
            yield Deployment(port, ports, processes, logs, upstream, env)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(15)
        upstream.stop()


@needs_nginx
def test_clients_behind_nginx_are_told_apart(deployment):
    clients = [f"127.0.0.{n}" for n in range(2, 7)]
    for client in clients:
        statuses = [get(deployment.nginx, new_query(), client).status for _ in range(3)]
        assert statuses == [200, 200, 429], (client, statuses, deployment.logged()[-3000:])
    # Each refusal fell on its own client: a fresh one still renders.
    assert get(deployment.nginx, new_query(), "127.0.0.7").status == 200
    # Access lines come in batches, from each instance on its own.
    _until(lambda: all(len(deployment.access_lines(client)) >= 3 for client in clients), 5)
    for client in clients:
        lines = deployment.access_lines(client)
        assert [line.split('" ')[1][:3] for line in lines if "/events.ics" in line] == [
            "200",
            "200",
            "429",
        ], lines


@needs_nginx
def test_spoofed_forwarding_headers_do_not_mint_identities_through_nginx(deployment):
    statuses = []
    for number in range(4):
        spoof = {
            "Forwarded": f"for=198.51.100.{number}",
            "X-Forwarded-For": f"192.0.2.{number}",
            "X-Real-IP": f"192.0.2.{number + 100}",
        }
        statuses.append(get(deployment.nginx, new_query(), "127.0.0.8", spoof).status)
    assert statuses == [200, 200, 429, 429]
    _until(lambda: len(deployment.access_lines("127.0.0.8")) >= 4, 5)  # lines come in batches
    logged = deployment.logged()
    assert "198.51.100." not in logged and "192.0.2." not in logged


@needs_nginx
def test_a_feed_through_the_cache_is_the_apps_own_and_revalidates(deployment):
    path = f"/programs/spacex-starship.ics?{ALL}"
    answers = [direct(port, path) for port in deployment.instances]
    first = get(deployment.nginx, path, "127.0.0.9")
    second = get(deployment.nginx, path, "127.0.0.10")
    assert first.status == second.status == 200
    assert second.headers["X-Cache-Status"] == "HIT"
    assert first.body == second.body == answers[0].body == answers[1].body
    assert first.headers["ETag"] == answers[0].headers["ETag"]
    assert first.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert Calendar.from_ical(second.body).walk("VEVENT")
    etag = second.headers["ETag"]
    revalidated = get(deployment.nginx, path, "127.0.0.9", {"If-None-Match": etag})
    assert revalidated.status == 304 and revalidated.body == b""
    head = get(deployment.nginx, path, "127.0.0.9", method="HEAD")
    assert head.status == 200 and head.headers["ETag"] == etag
    # The gzip variant is its own (Vary: Accept-Encoding), and still the app's bytes.
    zipped = get(deployment.nginx, path, "127.0.0.9", {"Accept-Encoding": "gzip"})
    app_zipped = direct(deployment.instances[0], path, {"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and zipped.body == app_zipped.body


@needs_nginx
def test_a_data_change_reaches_a_client_through_the_cache_within_max_age(deployment):
    path = f"/events.ics?{ALL}"
    before = get(deployment.nginx, path, "127.0.0.11")
    assert before.status == 200 and b"Renamed by the operator test" not in before.body
    assert get(deployment.nginx, path, "127.0.0.11").headers["X-Cache-Status"] == "HIT"
    event = max(deployment.upstream.events.values(), key=lambda e: e["last_updated"])
    event["name"] = "Renamed by the operator test"
    event["last_updated"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # as LL2 stamps
    synced = subprocess.run(
        [sys.executable, "-m", "icalfeed", "sync"],
        env=deployment.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert synced.returncode == 0, synced.stderr
    served = _until(
        lambda: b"Renamed by the operator test" in direct(deployment.instances[0], path).body,
        message=synced.stderr + deployment.logs[0].read_text()[-6000:],
    )
    through_cache = _until(
        lambda: b"Renamed by the operator test" in get(deployment.nginx, path, "127.0.0.11").body
    )
    assert through_cache - served <= MAX_AGE + 1.0, (served, through_cache)


def _until(condition, seconds: float = 30.0, message: str = "") -> float:
    """Poll until `condition()`; returns when it first held (monotonic seconds)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return time.monotonic()
        time.sleep(0.1)
    raise AssertionError(f"never happened {message}")


@needs_nginx
def test_metrics_only_from_the_scrape_network(deployment):
    assert get(deployment.nginx, "/metrics", "127.0.0.1").status == 200
    assert get(deployment.nginx, "/metrics", "127.0.0.12").status == 403
    assert get(deployment.nginx, "/healthz", "127.0.0.12").status == 200


@needs_nginx
def test_with_one_of_two_instances_stopped_feeds_keep_answering(deployment):
    stopped = deployment.processes[0]
    stopped.terminate()
    assert stopped.wait(15) == 0
    statuses = []
    for number in range(13, 33):  # clients that hashed to either instance
        client = f"127.0.0.{number}"
        statuses.append(get(deployment.nginx, f"/events.ics?{ALL}", client).status)
        statuses.append(get(deployment.nginx, new_query(), client).status)
        statuses.append(get(deployment.nginx, "/healthz", client).status)
    assert statuses == [200] * len(statuses)


# --------------------------------------------------------------------- the files


@needs_nginx
def test_the_shipped_nginx_config_passes_nginx_t(tmp_path):
    tested = check(nginx_conf(tmp_path, [8080, 8081], 8000))
    assert tested.returncode == 0, tested.stderr
    assert "warn" not in tested.stderr, tested.stderr


@pytest.mark.parametrize("unit", ["icalfeed.service", "icalfeed@8081.service"])
def test_the_shipped_systemd_units_verify(tmp_path, unit):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        print("systemd-analyze is not here: the units cannot be verified on this machine")
        pytest.skip("systemd-analyze is not installed")
    icalfeed = Path(sys.executable).with_name("icalfeed")
    assert icalfeed.exists()
    for shipped in (DEPLOY / "systemd").glob("*.service"):
        text = shipped.read_text().replace("/opt/icalfeed/.venv/bin/icalfeed", str(icalfeed))
        (tmp_path / shipped.name).write_text(text)
    verified = subprocess.run(
        [analyze, "verify", str(tmp_path / unit)], capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stderr
    assert not re.search(r"(?i)unknown|ignoring|fail|not ", verified.stderr), verified.stderr


@needs_nginx
def test_the_changes_feed_through_the_cache_names_the_public_address(deployment):
    import feedparser

    path = "/changes.atom?program=spacex-starship"
    # Clients of their own: the module's other tests spent the render budgets of theirs.
    first = get(deployment.nginx, path, "127.0.9.1")
    second = get(deployment.nginx, path, "127.0.9.2")
    assert first.status == second.status == 200
    assert second.headers["X-Cache-Status"] == "HIT"
    assert first.body == second.body == direct(deployment.instances[1], path).body
    assert first.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(second.body)
    assert not parsed.bozo
    assert parsed.feed.links[0].href == f"https://calendar.example.org{path}"
    revalidated = get(deployment.nginx, path, "127.0.9.1", {"If-None-Match": first.headers["ETag"]})
    assert revalidated.status == 304
