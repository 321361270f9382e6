"""Where a keyset walk over LL2's `last_updated` order stands after each page (the scheme
is in `sync`'s docstring): pure cursor arithmetic, no request."""

from __future__ import annotations

from datetime import timedelta

from ..base.errors import UpstreamError
from ..data.snapshot import Cursor
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
