"""Build the packaged offline sample from the real LL2 JSON in ``../shared``.

Usage: python scripts/build_sample.py SHARED_DIR OUTPUT_JSON

Every distinct event id and launch id is kept once, in its freshest version (newest
``last_updated``, then the newest schema, then the fullest mode), slimmed of fields icalfeed
never reads.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from icalfeed.data.snapshot import Entry, Snapshot
from icalfeed.ll2.models import Item, ParsedPage, parse_events, parse_launches


def raw_items(shared: Path, folder: str) -> list[tuple[int, dict]]:
    """(schema rank, object) for every object in the shared LL2 files of `folder`."""
    found: list[tuple[int, dict]] = []
    for path in sorted((shared / "ll2" / folder).glob("*.json")):
        if path.name.endswith("provenance.json"):
            continue
        data = json.loads(path.read_text())
        items = data["results"] if isinstance(data, dict) else data
        rank = 2 if "2.3.0" in path.name else 1 if "2.2.0" in path.name else 0
        found += [(rank, item) for item in items]
    return found


def raw_events(shared: Path) -> list[tuple[int, dict]]:
    """(schema rank, event) for every event object in the shared LL2 files and seeds."""
    found = raw_items(shared, "events")
    for path in sorted((shared / "seeds").glob("*.txt")):
        text = path.read_text()
        start = text.find("\n{")
        if start >= 0:
            found.append((3, json.loads(text[start:])))
    return found


def freshest(
    found: list[tuple[int, dict]], parse: Callable[[list], ParsedPage] = parse_events
) -> dict[str, tuple[Item, dict]]:
    best: dict[str, tuple[tuple, Item, dict]] = {}
    for rank, raw in found:
        parsed = parse([raw]).items
        if not parsed:
            continue
        item, record = parsed[0]
        key = (item.last_updated.isoformat() if item.last_updated else "", rank, len(record))
        if item.key not in best or key > best[item.key][0]:
            best[item.key] = (key, item, record)
    return {k: (item, record) for k, (_, item, record) in best.items()}


def main(shared: str, output: str) -> None:
    chosen = freshest(raw_events(Path(shared)))
    chosen |= freshest(raw_items(Path(shared), "launches"), parse_launches)
    entries = {}
    for key, (item, record) in chosen.items():
        seen = item.last_updated or item.start
        entries[key] = Entry.create(
            item, record, sequence=0, first_seen=seen, last_seen=seen, removed_at=None
        )
    newest = max(e.last_seen for e in entries.values())
    snapshot = Snapshot(entries, source="sample", saved_at=newest)
    body = json.dumps(snapshot.to_json(), ensure_ascii=False, separators=(",", ":"), indent=None)
    Path(output).write_text(body + "\n")
    print(
        f"{output}: {snapshot.count('event')} events, {snapshot.count('launch')} launches, "
        f"{len(body.encode()) // 1024} KiB",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main(*sys.argv[1:3])
