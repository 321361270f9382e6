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
from datetime import UTC, datetime
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


def capture_times(entries: dict[str, Entry]) -> dict[str, datetime]:
    """When each kind was captured: the newest `last_updated` of its items (a page cannot
    have been read before the newest change it shows; for launches, that is when their
    upcoming page was read)."""
    found: dict[str, datetime] = {}
    for entry in entries.values():
        seen = entry.item.last_updated or entry.last_seen
        if entry.kind not in found or seen > found[entry.kind]:
            found[entry.kind] = seen
    return found


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
    data = snapshot.to_json()
    as_of = capture_times(entries)
    data["as_of"] = {kind: moment.isoformat() for kind, moment in sorted(as_of.items())}
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), indent=None)
    Path(output).write_text(body + "\n")
    print(
        f"{output}: {snapshot.count('event')} events, {snapshot.count('launch')} launches, "
        f"{len(body.encode()) // 1024} KiB",
        file=sys.stderr,
    )
    problems = check_demo(Snapshot.from_json(json.loads(body), "sample"))
    if problems:
        sys.exit("the demo would be empty: " + "; ".join(problems))


def check_demo(sample: Snapshot) -> list[str]:
    """Render every default view of the demo as the server shows the sample (as of its
    capture times), say what each holds, and list the ones that would be empty."""
    from icalfeed.feeds.asof import moment, sample_note
    from icalfeed.feeds.query import EVENTS_ONLY, EVERYTHING, LAUNCHES_ONLY, FeedQuery
    from icalfeed.feeds.select import select
    from icalfeed.web.choices import upcoming_counts

    far = datetime(2100, 1, 1, tzinfo=UTC)  # any clock: the sample is shown as of itself
    print(sample_note(sample), file=sys.stderr)
    views: list[tuple[str, FeedQuery]] = [
        ("/events.ics", FeedQuery.from_args([], sample.catalog, EVENTS_ONLY)),
        ("/launches.ics", FeedQuery.from_args([], sample.catalog, LAUNCHES_ONLY)),
        ("/feed.ics", FeedQuery.from_args([], sample.catalog, EVERYTHING)),
    ]
    busiest = upcoming_counts(sample, "program", moment(sample, "event", far)).most_common(1)
    if busiest:
        slug = sample.catalog.programs.slug(busiest[0][0])
        views.append(
            (f"/programs/{slug}.ics", FeedQuery.from_args([("program", slug)], sample.catalog))
        )
    problems = [] if busiest else ["no program has an upcoming event"]
    for name, query in views:
        count = len(select(sample, query, far, 10_000).entries)
        print(f"  {name}: {count} items", file=sys.stderr)
        if not count:
            problems.append(f"{name} is empty")
    month = moment(sample, "event", far)
    in_month = [
        e
        for e in select(sample, views[0][1], far, 10_000).entries
        if (e.item.start.year, e.item.start.month) == (month.year, month.month)
    ]
    print(f"  widget month {month:%B %Y}: {len(in_month)} events", file=sys.stderr)
    if not in_month:
        problems.append(f"the widget's month ({month:%B %Y}) is empty")
    return problems


if __name__ == "__main__":
    main(*sys.argv[1:3])
