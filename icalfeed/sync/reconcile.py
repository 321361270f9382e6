"""What a reconcile may believe: an upcoming window that would remove a calendar's worth of
items at once (or lists nothing at all) is a glitch of LL2 or of a proxy before it, not
news; the pass fails and says why, and nothing is removed."""

from __future__ import annotations

from datetime import datetime

from ..base.errors import UpstreamError
from ..data.snapshot import Snapshot
from ..ll2.models import PLURAL


def believe_removals(
    snap: Snapshot, kind: str, listed: int, missing: int, now: datetime, until: datetime | None
) -> None:
    """Raise `not-believed` when a window listing `listed` items would remove `missing` of
    the upcoming ones (more than half, and more than three; or any, from an empty list)."""
    if not missing:
        return
    upcoming = sum(
        1
        for e in snap.entries.values()
        if e.kind == kind
        and e.removed_at is None
        and e.item.start > now
        and (until is None or e.item.start <= until)
    )
    if not listed or missing > max(3, upcoming // 2):
        raise UpstreamError(
            "not-believed",
            f"LL2's upcoming {PLURAL[kind]} list {listed} and would remove {missing} of "
            f"{upcoming}; not believed, nothing removed",
        )
