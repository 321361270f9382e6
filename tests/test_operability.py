"""The same truth from every process (#15): the sync's outcome is recorded where every
process reads it (the snapshot, on the data dir and in Redis), and `/healthz` says `ok`,
`degraded` or `stale` from it — whoever ran the sync."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta

from conftest import settings_against
from fake_ll2 import Fault

from icalfeed import create_app
from icalfeed.data.store import utcnow
from icalfeed.web.health import health_report
from icalfeed.web.runtime import current_runtime

BROKEN = Fault(500, b"<html>upstream maintenance</html>")


def test_a_failed_hand_sync_shows_on_a_server_started_later(tmp_path, fake_ll2):
    settings = settings_against(fake_ll2, tmp_path / "var")
    env = {
        **os.environ,
        "ICALFEED_UPSTREAM_URL": fake_ll2.base_url,
        "ICALFEED_DATA_DIR": str(settings.data_dir),
        "ICALFEED_LOG_LEVEL": "WARNING",
    }
    fake_ll2.broken["/"] = BROKEN
    done = subprocess.run(
        [sys.executable, "-m", "icalfeed", "sync"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 1 and "http-500" in done.stderr
    health = create_app(settings, start_sync=False).test_client().get("/healthz")
    assert health.status_code == 200  # feeds can still be served (the sample)
    body = health.json
    assert body["status"] == "degraded" and "http-500" in body["last_error"]
    events = body["streams"]["event"]
    assert "http-500" in events["last_error"] and events["consecutive_failures"] >= 1
    assert events["last_attempt"] is not None and events["last_sync"] is None
    assert events["next_attempt"] is not None


def test_no_success_for_long_is_stale_and_still_served(tmp_path, fake_ll2):
    settings = replace(settings_against(fake_ll2, tmp_path / "var"), stale_factor=2)
    app = create_app(settings, start_sync=False)
    runtime = current_runtime(app)
    runtime.store.commit(runtime.store.snapshot)  # a synced snapshot: never succeeded
    now = utcnow()
    body, code = health_report(runtime, now + timedelta(minutes=30))
    assert code == 200 and body["status"] == "ok"  # 30 minutes after a start: not yet
    body, code = health_report(runtime, now + timedelta(minutes=50))  # over 2 x 20 minutes
    assert code == 200 and body["status"] == "stale" and "event" in body["stale_streams"]
    snap = runtime.store.snapshot.with_sync("event", succeeded_at=now + timedelta(minutes=45))
    snap = snap.with_sync("launch", succeeded_at=now + timedelta(minutes=45))
    runtime.store.commit(snap)
    body, _ = health_report(runtime, now + timedelta(minutes=50))
    assert body["status"] == "ok" and body["stale_streams"] == []


def test_offline_is_never_stale(tmp_path, settings):
    app = create_app(settings, start_sync=False)
    body, _ = health_report(current_runtime(app), utcnow() + timedelta(days=30))
    assert body["status"] != "stale"


def test_a_failed_first_sync_keeps_the_sample_served_and_says_why(tmp_path, fake_ll2):
    from icalfeed.sync.passes import build_syncer

    fake_ll2.broken["/"] = BROKEN
    settings = settings_against(fake_ll2, tmp_path / "var")
    app = create_app(settings, start_sync=False)
    store = current_runtime(app).store
    assert not build_syncer(settings, store).run().ok
    for served in (app, create_app(settings, start_sync=False)):  # and after a restart
        client = served.test_client()
        assert client.get("/events.ics").status_code == 200
        health = client.get("/healthz").json
        assert health["source"] == "sample" and health["events"] > 0
        assert health["status"] == "degraded" and "http-500" in health["last_error"]
    del fake_ll2.broken["/"]
    assert build_syncer(settings, store).run(force=True).ok  # past its back-off
    assert store.snapshot.source == "snapshot" and store.last_error is None
