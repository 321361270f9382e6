"""A simulated day of syncing at Launch Library 2's real size, against the fake LL2 on
loopback: what the passes spend, hour by hour, and whether anything is lost.

The upstream holds ~1,300 events and ~300 launches in the 60-day window (the fixture items
copied under new ids), and edits a few of each every hour, some of them visible late (stamped
minutes in the past). The scheduler runs with the default settings and a fake clock from an
already synced data dir, so the numbers are the steady state: requests per pass per day,
the most in any hour, how long a full audit cycle takes, and a final check that the
snapshot equals the upstream.

Usage: .venv/bin/python bench/sync_day.py [hours]      (not a test; about a minute)
"""

from __future__ import annotations

import copy
import random
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fake_ll2 import FakeLL2
from ll2data import rebased_launches, upstream_events
from synctools import Clock, make_syncer

from icalfeed.base.config import Settings
from icalfeed.ll2.models import Event, Launch
from icalfeed.sync.scheduler import SyncScheduler

START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STAMP = "%Y-%m-%dT%H:%M:%SZ"


def real_size_upstream() -> FakeLL2:
    events = []
    for copy_number in range(5):
        for event in upstream_events():
            event = copy.deepcopy(event)
            event["id"] += 100_000 * copy_number
            events.append(event)
    launches = []
    for copy_number in range(23):
        # Spread over the year like LL2's list: ~25 launches in any 30 days.
        for launch in rebased_launches(START + timedelta(days=16 * copy_number - 60)):
            launch = copy.deepcopy(launch)
            launch["id"] = f"{copy_number:08x}" + launch["id"][8:]
            launch["last_updated"] = min(launch["last_updated"], "2026-11-25T11:00:00Z")
            launches.append(launch)
    return FakeLL2(events, launches=launches).start()


def classify(path: str, params: dict[str, str]) -> str:
    kind = "launches" if "launches" in path else "events"
    if path.endswith("upcoming/"):
        return f"{kind} reconcile"
    if "id" in params and params.get("ordering") != "id":
        return f"{kind} recheck"
    if params.get("last_updated__gte", "9") < "2026-11-01" or "last_updated__gte" not in params:
        return f"{kind} audit"
    return f"{kind} changes"


def main(hours: int = 24) -> None:
    fake = real_size_upstream()
    rng = random.Random(20)
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(upstream_url=fake.base_url, data_dir=Path(folder), read_timeout=5)
        clock = Clock(START)
        syncer = make_syncer(settings, clock)
        # An already synced data dir: backfill without counting it (a big budget, once).
        syncer.client.budget.limit = 10_000  # type: ignore[attr-defined]
        syncer.run(force=True)
        syncer.client.budget.limit = settings.requests_per_hour  # type: ignore[attr-defined]
        print(
            f"upstream: {len(fake.events)} events, {len(fake.launches)} launches; "
            f"synced: {syncer.store.snapshot.count(Event.kind)} events, "
            f"{syncer.store.snapshot.count(Launch.kind)} launches"
        )
        clock.advance(hours=1)
        fake.requests.clear()
        scheduler = SyncScheduler(syncer, tick_seconds=60)
        per_hour: Counter[int] = Counter()
        per_pass: Counter[str] = Counter()
        audit_started = syncer.store.snapshot.sync(Event.kind).audited_at
        edits = 0
        end = clock.now + timedelta(hours=hours)
        next_edit = clock.now
        while clock.now < end:
            if clock.now >= next_edit:
                for _ in range(4):  # a few upstream edits every quarter hour
                    store = fake.events if rng.random() < 0.5 else fake.launches
                    key = rng.choice(sorted(store, key=str))
                    lag = timedelta(minutes=rng.choice([0, 0, 0, 3]))
                    store[key] = {
                        **store[key],
                        "name": f"{store[key]['name'].split(' #')[0]} #{edits}",
                        "last_updated": (clock.now - lag).strftime(STAMP),
                    }
                    edits += 1
                next_edit += timedelta(minutes=15)
            fake.now = clock.now
            before = len(fake.requests)
            scheduler.run_once()
            hour = int((clock.now - START).total_seconds() // 3600)
            for seen in fake.requests[before:]:
                per_hour[hour] += 1
                per_pass[classify(seen.path, seen.params)] += 1
            clock.advance(seconds=scheduler.next_delay())
        snapshot = syncer.store.snapshot
        settled = (clock.now - timedelta(minutes=30)).strftime(STAMP)
        lost = [
            key
            for key, raw in [(f"event:{i}", e) for i, e in fake.events.items()]
            + [(f"launch:{i}", x) for i, x in fake.launches.items()]
            if key in snapshot.entries
            and snapshot.entries[key].item.name != raw["name"]
            and raw["last_updated"] < settled
        ]
        print(f"\n{hours} simulated hours, {edits} upstream edits, default settings")
        print(f"{'pass':<22}{'requests':>10}{'per day':>10}")
        for name, count in sorted(per_pass.items()):
            print(f"{name:<22}{count:>10}{count * 24 / hours:>10.1f}")
        total = sum(per_pass.values())
        print(f"{'total':<22}{total:>10}{total * 24 / hours:>10.1f}")
        print(f"most in one clock hour: {max(per_hour.values())} (ceiling 12)")
        kinds = dict(Counter(key.split(":")[0] for key in lost))
        print(f"edits older than 30 minutes missing from the snapshot: {len(lost)} {kinds}")
        audited = snapshot.sync(Event.kind).audit
        print(f"event audit cursor: {audited.stamp} (started {audit_started:%H:%M})")
    fake.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 24)
