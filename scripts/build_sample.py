"""Build the packaged offline sample from the real LL2 JSON in ``../shared``.

Usage: python scripts/build_sample.py SHARED_DIR OUTPUT_JSON

Every distinct event id is kept once, in its freshest version (newest ``last_updated``, then
the newest schema), slimmed of fields icalfeed never reads.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from icalfeed.models import Event, parse_events
from icalfeed.snapshot import Entry, Snapshot


def raw_events(shared: Path) -> list[tuple[int, dict]]:
    """(schema rank, event) for every event object in the shared LL2 files."""
    found: list[tuple[int, dict]] = []
    for path in sorted((shared / "ll2" / "events").glob("*.json")):
        if path.name.endswith("provenance.json"):
            continue
        data = json.loads(path.read_text())
        items = data["results"] if isinstance(data, dict) else data
        rank = 2 if "2.3.0" in path.name else 1 if "2.2.0" in path.name else 0
        found += [(rank, item) for item in items]
    for path in sorted((shared / "seeds").glob("*.txt")):
        text = path.read_text()
        start = text.find("\n{")
        if start >= 0:
            found.append((3, json.loads(text[start:])))
    return found


def freshest(found: list[tuple[int, dict]]) -> dict[int, tuple[Event, dict]]:
    best: dict[int, tuple[tuple, Event, dict]] = {}
    for rank, item in found:
        parsed = parse_events([item]).events
        if not parsed:
            continue
        event, record = parsed[0]
        key = (event.last_updated.isoformat() if event.last_updated else "", rank, len(record))
        if event.id not in best or key > best[event.id][0]:
            best[event.id] = (key, event, record)
    return {i: (event, record) for i, (_, event, record) in best.items()}


def main(shared: str, output: str) -> None:
    chosen = freshest(raw_events(Path(shared)))
    entries = {}
    for event_id, (event, record) in chosen.items():
        seen = event.last_updated or event.start
        entries[event_id] = Entry.create(
            event, record, sequence=0, first_seen=seen, last_seen=seen, removed_at=None
        )
    newest = max(e.last_seen for e in entries.values())
    snapshot = Snapshot(entries, source="sample", saved_at=newest)
    body = json.dumps(snapshot.to_json(), ensure_ascii=False, separators=(",", ":"), indent=None)
    Path(output).write_text(body + "\n")
    print(f"{output}: {len(entries)} events, {len(body.encode()) // 1024} KiB", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:3])
