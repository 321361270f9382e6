"""A real `icalfeed serve` process for the tests that need one: offline, its own data dir
under `tmp_path`, a free loopback port, stderr in `tmp_path/server.log`."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ports import free_ports

ROOT = Path(__file__).resolve().parents[1]


def serve_offline(tmp_path: Path, **env: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    """Start it with `env` added and wait until /healthz answers: (process, port, log)."""
    (port,) = free_ports(1)
    log = tmp_path / "server.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "icalfeed", "serve", "--offline", "--port", str(port)],
        env={**os.environ, "ICALFEED_DATA_DIR": str(tmp_path / "var"), **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
            return process, port, log
        except (OSError, http.client.HTTPException):  # not listening yet
            time.sleep(0.1)
    process.kill()
    raise AssertionError(log.read_text())
