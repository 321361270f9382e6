"""Launch Library 2 events and launches as frozen dataclasses, built once at the parsing
boundary.

Everything past this package works with these types; raw LL2 JSON never travels further
(the store keeps a slimmed copy only to persist it).  The parser accepts the 2.0/2.1
("legacy"), 2.2.0 and 2.3.0 schemas in list, normal and detailed modes.

`fields` holds the field helpers both kinds share, `events` the events (and the agencies,
programs, videos and links launches share with them), `launches` the launches, and
`items` the two together: the `Item` union and whole LL2 pages parsed.
"""

from .events import Agency, Event, EventType, LaunchRef, Link, Named, Program, Video, slim_record
from .fields import (
    MAX_DURATION,
    MAX_SLUG_CHARS,
    Precision,
    item_key,
    parse_datetime,
    parse_duration,
    safe_slug,
    scrub,
    slugify,
    utc_stamp,
    word_slug,
)
from .items import PLURAL, Item, ParsedPage, parse_events, parse_launches, parse_record
from .launches import Launch, LaunchStatus, Pad, slim_launch_record

__all__ = [
    "MAX_DURATION",
    "MAX_SLUG_CHARS",
    "PLURAL",
    "Agency",
    "Event",
    "EventType",
    "Item",
    "Launch",
    "LaunchRef",
    "LaunchStatus",
    "Link",
    "Named",
    "Pad",
    "ParsedPage",
    "Precision",
    "Program",
    "Video",
    "item_key",
    "parse_datetime",
    "parse_duration",
    "parse_events",
    "parse_launches",
    "parse_record",
    "safe_slug",
    "scrub",
    "slim_launch_record",
    "slim_record",
    "slugify",
    "utc_stamp",
    "word_slug",
]
