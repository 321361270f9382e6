"""Start-up edges of the real `icalfeed` process (issue 29): every start-up mistake is one
line on stderr and exit 2 before Launch Library 2 is asked anything; `serve` syncs only once
it listens; a file the CLI cannot write is one line and exit 3."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SPARE_CADENCE_ENV
from fake_ll2 import FakeLL2
from ports import free_ports

from icalfeed import create_app
from icalfeed.base.config import Settings
from icalfeed.ll2.budget import RequestBudget
from icalfeed.web.app import start_syncing
from icalfeed.web.runtime import current_runtime

ROOT = Path(__file__).resolve().parents[1]


def clean_environ() -> dict[str, str]:
    """This process's environment without any ICALFEED_ variable a shell may have set."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ICALFEED_")}


def icalfeed(
    *args: str, env: dict[str, str], timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m icalfeed ARGS`` to its end with `env` (and no other ICALFEED_ setting)."""
    return subprocess.run(
        [sys.executable, "-m", "icalfeed", *args],
        env={**clean_environ(), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@contextlib.contextmanager
def taken_port() -> Iterator[int]:
    """A loopback port another program listens on (without SO_REUSEADDR)."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    try:
        yield holder.getsockname()[1]
    finally:
        holder.close()


@pytest.fixture
def online_env(tmp_path: Path, fake_ll2: FakeLL2) -> dict[str, str]:
    """A fresh data dir and the fake LL2: any sync would ask it at once."""
    return {
        "ICALFEED_DATA_DIR": str(tmp_path / "var"),
        "ICALFEED_UPSTREAM_URL": fake_ll2.base_url,
        "ICALFEED_SYNC_TICK_SECONDS": "1",
        **SPARE_CADENCE_ENV,
    }


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The whole of stderr, which must be exactly one line."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_serve_on_a_taken_port_is_one_line_exit_2_and_asks_nothing_of_ll2(
    online_env, fake_ll2, tmp_path
):
    with taken_port() as port:
        result = icalfeed("serve", "--port", str(port), env=online_env)
    assert result.returncode == 2
    assert (
        one_line(result) == f"icalfeed: cannot listen on 127.0.0.1:{port}: address already in use"
    )
    assert fake_ll2.requests == []
    assert RequestBudget(tmp_path / "var", 12).status().used == 0


def test_serve_on_an_unknown_host_is_one_line_exit_2(online_env, fake_ll2):
    (port,) = free_ports(1)
    result = icalfeed(
        "serve", "--host", "no-such-host.invalid", "--port", str(port), env=online_env
    )
    assert result.returncode == 2
    line = one_line(result)
    assert line.startswith(f"icalfeed: cannot listen on no-such-host.invalid:{port}: unknown host")
    assert fake_ll2.requests == []


def _unprivileged_port_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text())
    except (OSError, ValueError):
        return 1024


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None or _unprivileged_port_start() < 2,
    reason="needs root and setpriv, to take away the right to bind a low port",
)
def test_serve_on_a_low_port_without_the_right_is_one_line_exit_2(online_env, fake_ll2):
    port = _unprivileged_port_start() - 1
    without_the_right = ["setpriv", "--bounding-set", "-net_bind_service"]  # root, less that cap
    result = subprocess.run(
        [*without_the_right, sys.executable, "-m", "icalfeed", "serve", "--port", str(port)],
        env={**clean_environ(), **online_env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert one_line(result) == (
        f"icalfeed: cannot listen on 127.0.0.1:{port}: permission denied "
        "(ports below 1024 need root or CAP_NET_BIND_SERVICE)"
    )
    assert fake_ll2.requests == []


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "ICALFEED_LOG_LEVEL",
            "verbose",
            "icalfeed: configuration error: ICALFEED_LOG_LEVEL must be one of DEBUG, INFO, "
            "WARNING, ERROR, CRITICAL, got 'verbose'",
        ),
        (
            "ICALFEED_REQUESTS_PER_HOUR",
            "-1",
            "icalfeed: configuration error: ICALFEED_REQUESTS_PER_HOUR must be 0 or more",
        ),
        (
            "ICALFEED_OFLINE",
            "1",
            "icalfeed: configuration error: unknown setting ICALFEED_OFLINE "
            "(did you mean ICALFEED_OFFLINE?)",
        ),
        (
            "ICALFEED_UPSTREAM",
            "https://example.org/2.3.0",
            "icalfeed: configuration error: unknown setting ICALFEED_UPSTREAM "
            "(did you mean ICALFEED_UPSTREAM_URL?)",
        ),
        (
            "ICALFEED_BASE_URL",
            "https://calendar.example.org",
            "icalfeed: configuration error: unknown setting ICALFEED_BASE_URL "
            "(did you mean ICALFEED_PUBLIC_URL?)",
        ),
    ],
)
def test_a_bad_or_unknown_setting_is_one_line_exit_2_before_any_request(
    online_env, fake_ll2, variable, value, expected
):
    (port,) = free_ports(1)
    result = icalfeed("serve", "--port", str(port), env={**online_env, variable: value})
    assert result.returncode == 2
    assert one_line(result) == expected
    assert fake_ll2.requests == []


def test_log_level_is_case_insensitive(tmp_path):
    env = {"ICALFEED_DATA_DIR": str(tmp_path / "var"), "ICALFEED_LOG_LEVEL": "warning"}
    result = icalfeed("render", "-o", str(tmp_path / "feed.ics"), env=env)
    assert result.returncode == 0, result.stderr


def test_every_unknown_setting_is_named_on_the_one_line(tmp_path):
    env = {
        "ICALFEED_DATA_DIR": str(tmp_path / "var"),
        "ICALFEED_OFLINE": "1",
        "ICALFEED_ZZZ": "x",
    }
    result = icalfeed("render", env=env)
    assert result.returncode == 2
    assert one_line(result) == (
        "icalfeed: configuration error: unknown settings ICALFEED_OFLINE "
        "(did you mean ICALFEED_OFFLINE?), ICALFEED_ZZZ (not a setting of icalfeed)"
    )


def test_an_unwritable_data_dir_is_one_line_exit_2_for_serve(tmp_path, fake_ll2, online_env):
    blocker = tmp_path / "file"
    blocker.write_text("")
    (port,) = free_ports(1)
    env = {**online_env, "ICALFEED_DATA_DIR": str(blocker / "var")}
    result = icalfeed("serve", "--port", str(port), env=env)
    assert result.returncode == 2
    assert one_line(result).startswith(
        f"icalfeed: configuration error: ICALFEED_DATA_DIR {str(blocker / 'var')!r} is not a "
        "writable folder"
    )
    assert fake_ll2.requests == []


def test_serve_logs_serving_once_it_listens_then_syncs(online_env, fake_ll2, tmp_path):
    (port,) = free_ports(1)
    log = tmp_path / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "icalfeed", "serve", "--port", str(port)],
        env={**clean_environ(), **online_env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    try:
        deadline = time.monotonic() + 30
        while not fake_ll2.requests and time.monotonic() < deadline:
            time.sleep(0.1)
        assert fake_ll2.requests, log.read_text()
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read()
    finally:
        process.terminate()
        process.wait(10)
    text = log.read_text()
    serving = text.index(f"serving on http://127.0.0.1:{port}/")
    assert serving < text.index("icalfeed.sync.passes"), text


def wait_for_requests(fake: FakeLL2, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while not fake.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    return bool(fake.requests)


def test_plain_create_app_still_syncs_for_other_wsgi_servers(tmp_path, fake_ll2):
    settings = Settings(upstream_url=fake_ll2.base_url, data_dir=tmp_path / "var")
    runtime = current_runtime(create_app(settings))
    try:
        assert runtime.scheduler is not None and wait_for_requests(fake_ll2)
    finally:
        if runtime.scheduler is not None:
            runtime.scheduler.stop()


def test_an_app_built_without_sync_starts_it_on_demand(tmp_path, fake_ll2):
    settings = Settings(upstream_url=fake_ll2.base_url, data_dir=tmp_path / "var")
    app = create_app(settings, start_sync=False)
    runtime = current_runtime(app)
    time.sleep(0.5)
    assert runtime.scheduler is None and fake_ll2.requests == []
    scheduler = start_syncing(app)
    try:
        assert runtime.scheduler is scheduler and wait_for_requests(fake_ll2)
        assert start_syncing(app) is scheduler  # once only
    finally:
        scheduler.stop()


QUIET = {"ICALFEED_LOG_LEVEL": "WARNING"}  # without the INFO line on what data is rendered


def test_render_to_a_missing_folder_is_one_line_exit_3(tmp_path):
    target = tmp_path / "missing" / "dir" / "feed.ics"
    env = {"ICALFEED_DATA_DIR": str(tmp_path / "var"), **QUIET}
    result = icalfeed("render", "-o", str(target), env=env)
    assert result.returncode == 3
    assert one_line(result) == f"icalfeed: cannot write {target}: No such file or directory"


def test_render_onto_a_folder_is_one_line_exit_3(tmp_path):
    env = {"ICALFEED_DATA_DIR": str(tmp_path / "var"), **QUIET}
    result = icalfeed("render", "-o", str(tmp_path), env=env)
    assert result.returncode == 3
    assert one_line(result) == f"icalfeed: cannot write {tmp_path}: Is a directory"
