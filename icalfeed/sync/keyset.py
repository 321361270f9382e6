"""Where a keyset walk over LL2's `last_updated` order stands after each page: pure cursor
arithmetic, no request.

How the changes pass pages, so that no change is ever skipped: LL2 pages by offset, and an
offset is wrong as soon as the order moves under it (an item read on page 1 and edited
before page 2 jumps to the end, every later item moves up one place, and the first item of
page 2 is never returned).  So no offset is used: every request asks afresh for the first
100 items with ``last_updated >= cursor``.  After a page, every item stamped in an earlier
second than the page's last one has been read (they all sort before it), so the cursor moves
to the second of the last item, and the next request re-reads that second's items (merged
again, harmlessly) together with any of them the page did not hold — LL2's order among equal
stamps is not stable between requests, so a tie at the page boundary is re-asked, never
trusted.  When a whole page shares one second (a bulk edit), the cursor cannot move: that
second's items are then read alone (``last_updated`` within the second) in id order, a total
order, by offset; items can only leave such a group (an edit gives them a new stamp, read
later), and LL2's ``count`` tells how many left, so the offset backs up by that many and
nothing slides past it.  The walk's position, tie group included, is saved with every page,
so a group larger than one pass's budget goes on where it stopped.  Once a walk has reached
the end, the next one starts ``ICALFEED_SYNC_OVERLAP_MINUTES`` below the newest stamp read,
for edits that become visible late; what it reads twice merges to no change.

The history walks down by the same rules mirrored: after a page, everything stamped in a
later second than its last item is read, and that second is asked again.
"""

from __future__ import annotations

from datetime import timedelta

from ..base.errors import UpstreamError
from ..data.syncstate import Cursor
from ..ll2.upstream import Page
from .streams import parse_stamp, stamp


def after_page(cursor: Cursor, page: Page, down: bool = False) -> Cursor:
    """Where a keyset walk stands after one page asked from `cursor.stamp` onward (or, for
    the history walking `down`, from `cursor.stamp` downward)."""
    seconds = sorted({stamp(s) for s in page.parsed.stamps}, reverse=down)
    if page.is_last and down:
        return Cursor(cursor.stamp, None, done=True)
    if page.is_last:
        newest = max([*seconds, cursor.stamp or ""]) or None
        return Cursor(newest, None, done=True)
    if not seconds:
        raise UpstreamError("no-stamps", f"LL2 sent a full page without last_updated ({page.url})")
    if len(seconds) > 1:
        # Everything stamped before the last second is read; that second is asked again.
        return Cursor(seconds[-1])
    # A whole page in one second: read that second alone, by id.
    return Cursor(seconds[0], tie=(0, 0))


def after_tie_page(
    cursor: Cursor, page: Page, offset: int, size: int, down: bool = False
) -> Cursor:
    """Where the walk through one second's items stands after the page at `offset`; `size`
    is the group's size the previous page reported (0 on the first)."""
    assert cursor.stamp is not None
    count = page.count if page.count is not None else size
    left = size - count if size and count < size else 0
    if left:
        # Items of this second were edited again (they will be read at their new stamp):
        # those after them moved up, and as many may have slid below `offset`. Back up.
        return Cursor(cursor.stamp, tie=(max(0, offset - left), count))
    if page.size == 0 or (page.next_url is None and offset + page.size >= count):
        # The whole second is read: go on from the next one (the one below, walking down).
        step = timedelta(seconds=-1 if down else 1)
        return Cursor(stamp(parse_stamp(cursor.stamp) + step))
    return Cursor(cursor.stamp, tie=(offset + page.size, count))
