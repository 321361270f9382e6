"""Shared fixtures: settings in a temp data dir, the app and client, a fake LL2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_ll2 import FakeLL2
from flask import Flask
from flask.testing import FlaskClient
from ll2data import upstream_events

from icalfeed import create_app
from icalfeed.config import Settings

ICSCHECK = Path(__file__).resolve().parents[1] / ".cache" / "icscheck" / "validate_ics.sh"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Offline settings with a private data dir."""
    return Settings(data_dir=tmp_path / "var", offline=True)


@pytest.fixture
def fake_ll2() -> Iterator[FakeLL2]:
    server = FakeLL2(upstream_events()).start()
    yield server
    server.stop()


@pytest.fixture
def online_settings(tmp_path: Path, fake_ll2: FakeLL2) -> Settings:
    """Settings pointing at the fake LL2, with short timeouts."""
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    return Settings(
        upstream_url=fake_ll2.base_url,
        data_dir=data_dir,
        connect_timeout=2,
        read_timeout=2,
        # The events stream alone, so request counts are the events engine's; both streams
        # together are tested in tests/test_launch_sync.py.
        launches=False,
        # Nor the safety-net audit's spare requests (tests/test_sync_integrity.py has them).
        audit_minutes=0,
    )


@pytest.fixture
def app(settings: Settings) -> Flask:
    return create_app(settings, start_sync=False)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
