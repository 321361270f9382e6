"""The waitress internals the tarpit, the doorman and the graceful stop use are checked at
start-up: another waitress is a one-line error, never a server that half works."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest
from ports import free_ports
from waitress.server import create_server

from icalfeed.base.errors import StartupError
from icalfeed.serving import waitresscheck


@pytest.fixture
def server():
    made = create_server(lambda environ, start: [], host="127.0.0.1", port=0)
    yield made
    made.close()


def test_the_installed_waitress_has_what_icalfeed_uses(server):
    assert waitresscheck.missing_internals([server], server) == []
    waitresscheck.check_waitress([server], server)  # no error


def test_a_listener_without_the_internals_is_named(server):
    bare = SimpleNamespace(readable=lambda: True, adj=SimpleNamespace())
    missing = waitresscheck.missing_internals([bare], server)
    assert "server._map" in missing and "server.active_channels" in missing
    assert "server.adj.connection_limit" in missing
    with pytest.raises(StartupError, match=r"waitress .* install waitress>=3\.0,<3\.1"):
        waitresscheck.check_waitress([bare], server)


def test_another_release_is_refused_in_one_line(server, monkeypatch):
    monkeypatch.setattr(waitresscheck.metadata, "version", lambda name: "3.1.0")
    with pytest.raises(StartupError) as refused:
        waitresscheck.check_waitress([server], server)
    assert "release 3.1.0" in str(refused.value) and "\n" not in str(refused.value)


def test_serve_with_another_waitress_exits_2_with_one_line(tmp_path):
    """A real process whose waitress reports another release (as a future one would)."""
    (port,) = free_ports(1)
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(
        "import importlib.metadata as m\n"
        "real = m.version\n"
        "m.version = lambda name: '9.0.0' if name == 'waitress' else real(name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "icalfeed", "serve", "--offline", "--port", str(port)],
        env={
            "PYTHONPATH": str(shim),
            "ICALFEED_DATA_DIR": str(tmp_path / "var"),
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("icalfeed:")]
    assert len(lines) == 1 and "waitress 9.0.0" in lines[0], done.stderr
    assert "Traceback" not in done.stderr and "serving on" not in done.stderr
