"""The changes feeds of a selection: Atom (RFC 4287) and JSON Feed 1.1 documents of
`changelog.selected_news`, each entry linking to the item's page.

Both carry no "now": their bytes change only with the data (and the day, as the selection
window moves), so they are cached, and answered 304, like the calendars.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

from ..data.changes import Dated
from ..data.snapshot import Snapshot
from ..ll2.models import utc_stamp
from .changelog import LABELS, FeedLinks, News, one_item, selected_news
from .meaning import ATTRIBUTION, Meaning
from .output import Rendered, data_changed_at
from .query import FeedQuery
from .titles import calendar_meta

ATOM = "http://www.w3.org/2005/Atom"
JSON_FEED = "https://jsonfeed.org/version/1.1"
FORMATS = ("atom", "json")
# Feed ids are name-based UUIDs of the selection, in a namespace of their own.
_FEED_NAMESPACE = uuid.UUID("c3e0b7a2-64f1-5e8d-8b1f-2d9a4e6c0f15")
# Characters XML 1.0 cannot carry at all (§2.2): dropped, never an unreadable feed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def render_changes(
    fmt: str, snapshot: Snapshot, query: FeedQuery, day: datetime, links: FeedLinks
) -> Rendered:
    """The changes feed of `query` in `fmt` ("atom" or "json")."""
    news = selected_news(snapshot, query, day)
    single = one_item(snapshot, query)
    named = Meaning.of_entry(single).name if single else calendar_meta(query, snapshot.catalog).name
    name = f"{named}: changes"
    about = description(name)
    if snapshot.source == "sample":  # captured, never synced: it has seen no change
        about += (
            " This is the packaged sample (offline): changes are seen, and listed here, "
            "once icalfeed syncs with Launch Library 2."
        )
    feed_id = f"urn:uuid:{uuid.uuid5(_FEED_NAMESPACE, query.canonical())}"
    # The newest change, or (none shown) when the data last changed: never the clock.
    updated = news[0].change.seen if news else data_changed_at(snapshot, (), day)
    head = _Head(name, about, feed_id, updated, links)
    body = _json_feed(news, head) if fmt == "json" else _atom_feed(news, head)
    return Rendered(body, data_changed_at(snapshot, (), day), f"changes.{fmt}", name)


@dataclass(frozen=True, slots=True)
class _Head:
    """What a changes feed says of itself, whatever its format."""

    name: str
    about: str
    feed_id: str
    updated: datetime
    links: FeedLinks


def description(name: str) -> str:
    """What a changes feed is, in one sentence."""
    return (
        f"What changed in {name.removesuffix(': changes')}: new items, moved dates, "
        f"status changes, webcasts added, removals; newest first. {ATTRIBUTION}"
    )


# ---------------------------------------------------------------------------------- Atom


def _atom_feed(news: Sequence[News], head: _Head) -> bytes:
    links = head.links
    ElementTree.register_namespace("", ATOM)
    feed = ElementTree.Element(f"{{{ATOM}}}feed")
    _text(feed, "id", head.feed_id)
    _text(feed, "title", head.name)
    _text(feed, "subtitle", head.about)
    _text(feed, "updated", utc_stamp(head.updated))
    _link(feed, "self", links.atom, "application/atom+xml")
    _link(feed, "alternate", links.home, "text/html")
    _link(feed, "alternate", links.json, "application/feed+json")
    _link(feed, "related", links.calendar, "text/calendar")
    author = ElementTree.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", "icalfeed")
    _text(author, "uri", f"{links.base}/")
    _text(feed, "generator", "icalfeed")
    _text(feed, "rights", ATTRIBUTION)
    for item in news:
        entry = ElementTree.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "id", item.change.id)
        _text(entry, "title", item.title)
        _text(entry, "updated", utc_stamp(item.change.seen))
        _text(entry, "published", utc_stamp(item.change.seen))
        _link(entry, "alternate", links.base + item.path, "text/html")
        _link(entry, "related", f"{links.base}{item.path}.ics", "text/calendar")
        category = ElementTree.SubElement(entry, f"{{{ATOM}}}category")
        category.set("term", item.change.what)
        category.set("label", LABELS[item.change.what])
        _text(entry, "summary", item.summary)
    ElementTree.indent(feed, space=" ")
    body: bytes = ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body + b"\n"


def _text(parent: ElementTree.Element, tag: str, text: str) -> None:
    ElementTree.SubElement(parent, f"{{{ATOM}}}{tag}").text = _NOT_XML.sub("", text)


def _link(parent: ElementTree.Element, rel: str, href: str, media_type: str) -> None:
    link = ElementTree.SubElement(parent, f"{{{ATOM}}}link")
    link.set("rel", rel)
    link.set("type", media_type)
    link.set("href", _NOT_XML.sub("", href))


# ----------------------------------------------------------------------------- JSON Feed


def _json_feed(news: Sequence[News], head: _Head) -> bytes:
    links = head.links
    document = {
        "version": JSON_FEED,
        "title": head.name,
        "description": head.about,
        "home_page_url": links.home,
        "feed_url": links.json,
        "authors": [{"name": "icalfeed", "url": f"{links.base}/"}],
        "language": "en",
        "_icalfeed": {
            "id": head.feed_id,
            "updated": utc_stamp(head.updated),
            "calendar": links.calendar,
            "attribution": ATTRIBUTION,
        },
        "items": [_json_item(item, links.base) for item in news],
    }
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode()


def _json_item(item: News, base: str) -> dict[str, Any]:
    change = item.change
    facts: dict[str, Any] = {
        "change": change.what,
        "kind": item.entry.kind,
        "item_id": str(item.entry.item.id),
        "uid": item.meaning.uid,
        "calendar": f"{base}{item.path}.ics",
    }
    if change.was:
        facts["was"] = _dated(change.was)
    if change.now:
        facts["now"] = _dated(change.now)
    if change.before is not None:
        facts["before"] = change.before
    if change.after is not None:
        facts["after"] = change.after
    return {
        "id": change.id,
        "url": base + item.path,
        "title": item.title,
        "content_text": item.summary,
        "date_published": utc_stamp(change.seen),
        "date_modified": utc_stamp(change.seen),
        "tags": [change.what],
        "_icalfeed": facts,
    }


def _dated(dated: Dated) -> dict[str, str]:
    return {"start": utc_stamp(dated.start), "precision": dated.precision.name.lower()}
