"""Shared fixtures: settings in a temp data dir, the app and client, a fake LL2."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fake_ll2 import FakeLL2
from flask import Flask
from flask.testing import FlaskClient
from ll2data import upstream_events

from icalfeed import create_app
from icalfeed.base.config import Settings
from icalfeed.serving.admission import ClientBudgets, RenderLane
from icalfeed.web import runtime as runtime_module

pytest_plugins = ["redistools"]  # the redis_url and rclient fixtures

ICSCHECK = Path(__file__).resolve().parents[1] / ".cache" / "icscheck" / "validate_ics.sh"
# Set by `make test` when ../shared/icscheck is there to install from (as in CI): a test
# that needs the harness then fails instead of skipping.
REQUIRE_ICSCHECK = os.environ.get("ICSCHECK_REQUIRED") == "1"


def icscheck_missing() -> str | None:
    """Why the validation harness (six parsers and the strict RFC lint) cannot run here, or
    None when `make icscheck` installed it and checked it works (its `.ready` marker)."""
    folder = ICSCHECK.parent
    if not folder.is_dir():
        return f"validation harness not installed in {folder} (run `make icscheck`)"
    if not (folder / ".ready").exists():
        return f"validation harness in {folder} is not ready: its install failed or was cut short"
    missing = [
        name
        for name in ("validate_ics.sh", "venv/bin/python", "node_modules", "checkers/ics_lint.py")
        if not (folder / name).exists()
    ]
    if missing:
        return f"validation harness in {folder} lacks {', '.join(missing)}"
    return None


def need_icscheck() -> Path:
    """The harness's validate_ics.sh; a test without it is skipped with the reason, or
    fails when the harness is required (`make test` with ../shared/icscheck, CI)."""
    reason = icscheck_missing()
    if reason is not None:
        if REQUIRE_ICSCHECK:
            pytest.fail(f"{reason}; required here (ICSCHECK_REQUIRED=1)")
        pytest.skip(reason)
    return ICSCHECK


def validate_ics(*paths: Path) -> str:
    """Every file through the six parsers and the lint: none may say ERROR; their output."""
    script = need_icscheck()
    result = subprocess.run(
        [str(script), *map(str, paths)], capture_output=True, text=True, timeout=900
    )
    verdicts = [line.split()[:2] for line in result.stdout.splitlines() if line[:1].isalpha()]
    assert len(verdicts) == 7 * len(paths), result.stdout[-3000:] + result.stderr[-2000:]
    assert [v for v in verdicts if v[1] == "ERROR"] == [], result.stdout[-4000:]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="session", autouse=True)
def generous_admission() -> Iterator[None]:
    """Tests render hundreds of new queries a second from one address, and in parallel:
    apps built in this process get a thousandfold render budget and a long queue. The
    admission tests ask for the real gates (`real_admission`); servers started as processes
    have the real ones."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            runtime_module,
            "ClientBudgets",
            lambda per_minute, burst: ClientBudgets(per_minute * 1000, burst * 1000),
        )
        patch.setattr(
            runtime_module, "RenderLane", lambda lanes, queue, wait: RenderLane(lanes, 64, 30.0)
        )
        yield


@pytest.fixture
def real_admission(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime_module, "ClientBudgets", ClientBudgets)
    monkeypatch.setattr(runtime_module, "RenderLane", RenderLane)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Offline settings with a private data dir."""
    return Settings(data_dir=tmp_path / "var", offline=True)


@pytest.fixture
def fake_ll2() -> Iterator[FakeLL2]:
    server = FakeLL2(upstream_events()).start()
    yield server
    server.stop()


# Cadences slow enough that the schedule of the coming hour leaves most of the budget spare:
# a server's first sync then reads the small fixture history whole (with the defaults it
# would take one page an hour; tests/test_launch_sync.py tests that schedule).
SPARE_CADENCE_ENV = {
    "ICALFEED_INCREMENTAL_MINUTES": "120",
    "ICALFEED_LAUNCH_INCREMENTAL_MINUTES": "120",
    "ICALFEED_RECONCILE_MINUTES": "120",
}


def settings_against(fake: FakeLL2, data_dir: Path, **changes: Any) -> Settings:
    """Settings pointing at the fake LL2, with short timeouts, in `data_dir` (created)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    base = Settings(
        upstream_url=fake.base_url,
        data_dir=data_dir,
        connect_timeout=2,
        read_timeout=2,
        # The events stream alone, so request counts are the events engine's; both streams
        # together are tested in tests/test_launch_sync.py.
        launches=False,
        # Nor the safety-net audit's spare requests (tests/test_sync_integrity.py has them).
        audit_minutes=0,
    )
    return replace(base, **changes)


@pytest.fixture
def online_settings(tmp_path: Path, fake_ll2: FakeLL2) -> Settings:
    """Settings pointing at the fake LL2, with short timeouts."""
    return settings_against(fake_ll2, tmp_path / "var")


@pytest.fixture
def app(settings: Settings) -> Flask:
    return create_app(settings, start_sync=False)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
