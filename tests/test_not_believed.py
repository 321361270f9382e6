"""An answer the sync does not believe is told (#31): every LL2 listing empty (HTTP 200,
`count: 0`), or an upcoming window that would remove most of what is upcoming. The feeds
stay as they were, as before; now `/healthz` says `degraded` with the reason, and a hand-run
`icalfeed sync` exits 1 with it, like any other upstream fault."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta

from conftest import settings_against
from fake_ll2 import FakeLL2
from servers import ROOT, serve_offline
from synctools import Clock, make_syncer

from icalfeed import create_app


def _with_upcoming(fake: FakeLL2, count: int, now: datetime) -> list[int]:
    """`count` events dated in the coming days, the only upcoming ones (the fake's clock and
    ours agree on now)."""
    fake.now = now
    for event_id, event in fake.events.items():
        if datetime.fromisoformat(event["date"]) > now:
            fake.events[event_id] = {**event, "date": (now - timedelta(days=30)).isoformat()}
    ids = sorted(fake.events)[:count]
    for days, event_id in enumerate(ids, start=2):
        event = {**fake.events[event_id], "date": (now + timedelta(days=days)).isoformat()}
        fake.events[event_id] = event
    return ids


def _hand_sync(fake: FakeLL2, data_dir) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ICALFEED_UPSTREAM_URL": fake.base_url,
        "ICALFEED_DATA_DIR": str(data_dir),
        "ICALFEED_LAUNCHES": "0",
    }
    return subprocess.run(
        [sys.executable, "-m", "icalfeed", "sync"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_listing_empty_fails_the_hand_sync_and_shows_on_healthz(tmp_path, fake_ll2):
    _with_upcoming(fake_ll2, 6, datetime.now(UTC))
    data_dir = tmp_path / "var"
    first = _hand_sync(fake_ll2, data_dir)
    assert first.returncode == 0, first.stderr
    snapshot_before = (data_dir / "snapshot.json").read_bytes()
    fake_ll2.events.clear()  # LL2, or a proxy before it, answers 200 with nothing at all
    second = _hand_sync(fake_ll2, data_dir)
    assert second.returncode == 1, second.stderr
    line = second.stderr.strip().splitlines()[-1]
    assert "not-believed: LL2's upcoming events list 0 and would remove 6 of 6" in line
    assert "nothing removed" in line
    events = json.loads((data_dir / "snapshot.json").read_text())["entries"]
    assert all(entry["removed_at"] is None for entry in events)
    assert len(events) == len(json.loads(snapshot_before)["entries"])
    process, port, _ = serve_offline(tmp_path)  # any process of the data dir says so
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            health = json.loads(answer.read())
    finally:
        process.terminate()
        process.wait(10)
    assert health["status"] == "degraded"
    assert health["last_error"].startswith("not-believed: LL2's upcoming events list 0")
    assert health["streams"]["event"]["failing"]["reconcile"]["error"].startswith("not-believed")
    assert str(tmp_path) not in json.dumps(health) and "127.0.0.1" not in json.dumps(health)


def test_a_mass_removal_is_not_believed_and_named(tmp_path, fake_ll2):
    clock = Clock(datetime.now(UTC))
    upcoming = _with_upcoming(fake_ll2, 8, clock.now)
    settings = settings_against(fake_ll2, tmp_path / "var")
    syncer = make_syncer(settings, clock)
    assert syncer.run(force=True).ok
    gone = {event_id: fake_ll2.events[event_id] for event_id in upcoming[:6]}
    for event_id in gone:  # 6 of 8 upcoming gone at once
        fake_ll2.remove(event_id)
    report = syncer.run(force=True)
    assert report.error is not None
    assert "not-believed: LL2's upcoming events list 2 and would remove 6 of 8" in report.error
    assert report.counts.removed == 0
    health = create_app(settings, start_sync=False).test_client().get("/healthz").get_json()
    assert health["status"] == "degraded" and "not-believed" in health["last_error"]
    # One removal is believed (asked after by id first), as ever, and the failure is over.
    fake_ll2.events.update(gone)
    fake_ll2.remove(upcoming[0])
    report = syncer.run(force=True)
    assert report.ok and report.counts.removed == 1
    assert syncer.store.last_error is None
