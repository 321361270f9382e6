"""One request for a changes pass, even when its overlap holds a bulk edit (#31).

A new changes pass starts `ICALFEED_SYNC_OVERLAP_MINUTES` below the newest change read (the
mark). After LL2 bulk-edits more than a page of items in one second, that second stays in
the overlap until something newer is read, and reading it again, in id order, costs a
request per hundred items on every pass: 5 requests a pass for 400 items, 15 an hour for
the event changes alone, over the whole budget.

So when what we hold from the pass's start on fills a page, the pass first asks for the
same listing newest change first. LL2's `count` is what it has from the start on; every
item it has there is either one we hold (unchanged: counted in what we hold; edited again:
counted once, and newest, so on the page) or one that joined (new, edited from below the
start, or visible late: on the page, or missing from the count). When the count is what we
hold plus what joined on the page, and the page reaches down to the mark (everything newer
than the mark is on it), the page holds every change: the pass is that one request. Else
the pass walks as ever (the page is merged anyway, no harm).

What this one request cannot see is an item already read in the overlap and edited again
with a stamp that becomes visible late and still below the page: the hourly audit repairs
that (`sync`'s safety net).
"""

from __future__ import annotations

from datetime import datetime

from ..data.snapshot import Snapshot
from ..ll2.upstream import PAGE_SIZE, Page
from .streams import Stream, parse_stamp, stamp


def held_since(snap: Snapshot, stream: Stream, since: str, now: datetime) -> dict[str, str]:
    """The items of `stream` held here that LL2's changes listing from the second `since`
    lists too, if nothing changed: key → their stamp (whole seconds)."""
    oldest = parse_stamp(stamp(now - stream.history)) if stream.history is not None else None
    held = {}
    for key, entry in snap.entries.items():
        item = entry.item
        if entry.kind != stream.kind or entry.removed_at is not None or not item.last_updated:
            continue
        second = stamp(item.last_updated)
        if second >= since and (oldest is None or item.start >= oldest):
            held[key] = second
    return held


def worth_asking(held: dict[str, str]) -> bool:
    """Whether walking up from the start would take more than one page."""
    return len(held) >= PAGE_SIZE


def probe_params(stream: Stream, since: str, now: datetime) -> dict[str, str | int]:
    """The changes listing from `since`, newest change first."""
    return {**stream.changes_params(since, now), "ordering": "-last_updated"}


def newest_if_complete(page: Page, held: dict[str, str], mark: str) -> str | None:
    """When the newest-first `page` holds every change LL2 has from the pass's start on,
    the newest second on it (the mark when it is empty); else None."""
    if page.count is None:
        return None
    seconds = [stamp(s) for s in page.parsed.stamps]
    keys = {item.key for item, _ in page.parsed.items} | page.parsed.unparsed_keys
    joined = len(keys - held.keys())
    reaches_mark = page.is_last or (bool(seconds) and min(seconds) <= mark)
    if page.count != len(held) + joined or not reaches_mark:
        return None
    return max([*seconds, mark])
