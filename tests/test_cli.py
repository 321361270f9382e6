"""The command line: render, sync, serve, configuration errors, the entry points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import need_icscheck
from icalendar import Calendar
from ports import free_ports

from icalfeed.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("ICALFEED_DATA_DIR", str(tmp_path / "var"))
    for name in ("ICALFEED_OFFLINE", "ICALFEED_PORT", "ICALFEED_UPSTREAM_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_render_writes_a_feed_for_a_query(env, capsys):
    out = env / "docking.ics"
    assert main(["render", "type=docking&start=2019-01-01", "-o", str(out)]) == 0
    events = Calendar.from_ical(out.read_bytes()).walk("VEVENT")
    assert events and all("Docking" in e["CATEGORIES"].cats for e in events)
    assert "sample" in capsys.readouterr().err


def test_render_to_stdout(env, capsys):
    assert main(["render", "start=2019-01-01&vague=hide"]) == 0
    calendar = Calendar.from_ical(capsys.readouterr().out.encode())
    assert all(e["STATUS"] != "TENTATIVE" for e in calendar.walk("VEVENT"))


def test_render_bad_query_exits_2_with_the_message(env, capsys):
    assert main(["render", "tyep=docking"]) == 2
    assert "unknown parameter 'tyep' (did you mean 'type'?)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ICALFEED_PORT", "99999", "ICALFEED_PORT must be between 1 and 65535"),
        ("ICALFEED_PORT", "eighty", "ICALFEED_PORT has an unusable value"),
        ("ICALFEED_UPSTREAM_URL", "ftp://x", "must be an http(s) URL"),
        ("ICALFEED_REQUESTS_PER_HOUR", "100", "exceeds the Launch Library 2 free tier"),
        ("ICALFEED_OFFLINE", "maybe", "ICALFEED_OFFLINE has an unusable value"),
    ],
)
def test_bad_configuration_exits_2_without_traceback(
    env, monkeypatch, capsys, variable, value, message
):
    monkeypatch.setenv(variable, value)
    assert main(["render"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_unwritable_data_dir_exits_2(env, monkeypatch, capsys):
    blocker = env / "file"
    blocker.write_text("")
    monkeypatch.setenv("ICALFEED_DATA_DIR", str(blocker / "var"))
    assert main(["render"]) == 2
    assert "is not a writable folder" in capsys.readouterr().err


def test_sync_shows_progress_and_fills_the_snapshot(env, monkeypatch, capsys, fake_ll2):
    monkeypatch.setenv("ICALFEED_UPSTREAM_URL", fake_ll2.base_url)
    assert main(["sync"]) == 0
    err = capsys.readouterr().err
    assert "upcoming events: 1 pages fetched" in err and "history of events: 3 pages fetched" in err
    assert "upcoming launches: 1 pages fetched, 0 items" in err
    assert "requests left this hour" in err and "sync done: 8 requests" in err
    snapshot = json.loads((env / "var" / "snapshot.json").read_text())
    assert len(snapshot["entries"]) == len(fake_ll2.events)


def test_sync_failure_exits_1_and_keeps_nothing_broken(env, monkeypatch, capsys, fake_ll2):
    from fake_ll2 import Fault

    monkeypatch.setenv("ICALFEED_UPSTREAM_URL", fake_ll2.base_url)
    fake_ll2.fail_next(Fault(503))
    assert main(["sync"]) == 1
    assert "error: http-503" in capsys.readouterr().err


def test_sync_refuses_when_offline(env, monkeypatch, capsys):
    monkeypatch.setenv("ICALFEED_OFFLINE", "1")
    assert main(["sync"]) == 2


def test_python_m_icalfeed_serve_offline_answers(env):
    (port,) = free_ports(1)
    process = subprocess.Popen(
        [sys.executable, "-m", "icalfeed", "serve", "--offline", "--port", str(port)],
        env={**os.environ, "ICALFEED_DATA_DIR": str(env / "var")},
        stderr=subprocess.PIPE,
    )
    try:
        health = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    health = json.loads(r.read())
                break
            except OSError:
                time.sleep(0.1)
        assert health is not None and health["source"] == "sample"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/events.ics", timeout=5) as r:
            assert r.headers["Content-Type"] == "text/calendar; charset=utf-8"
            assert Calendar.from_ical(r.read()).walk("VEVENT")
        # Last: the shared HTTP checker (ETag, 304, HEAD, byte stability…), or a skip.
        checker = need_icscheck().parent / "checkers" / "http_check.py"
        for path in (
            "/events.ics",
            "/programs/spacex-starship.ics?start=2019-01-01",
            "/launches.ics?start=2021-01-01",
            "/feed.ics?program=spacex-starship&start=2019-01-01",
        ):
            url = f"http://127.0.0.1:{port}{path}"
            result = subprocess.run(
                [sys.executable, str(checker), url], capture_output=True, text=True
            )
            assert result.returncode == 0 and "ERROR" not in result.stdout, result.stdout
    finally:
        process.terminate()
        process.wait(10)
    # Start-up ends with the address to open and two feeds to try (then requests come).
    assert process.stderr is not None
    text = process.stderr.read().decode()
    lines = text.splitlines()
    serving = next(n for n, line in enumerate(lines) if "INFO icalfeed: serving on" in line)
    base = f"http://127.0.0.1:{port}"
    assert lines[serving + 1 : serving + 5] == [
        f"icalfeed is ready: open {base}/ to build a feed",
        "  Sample data as of 26 September 2026 (launches as of 20 July 2026) — not live; "
        "set up a sync to see today's.",
        f"  try a feed:  {base}/events.ics",
        f"               {base}/launches.ics",
    ], text


def test_console_script_and_wsgi_entry_points(env):
    script = Path(sys.executable).with_name("icalfeed")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True)
    assert "serve" in result.stdout and "sync" in result.stdout and "render" in result.stdout
    code = "import wsgi; print(wsgi.app.name)"
    env_vars = {**os.environ, "ICALFEED_DATA_DIR": str(env / "var"), "ICALFEED_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env_vars, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
