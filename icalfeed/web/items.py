"""An item's own page (`/launches/<uuid>`, `/events/<id>`) and its one-item calendar
(`…/<id>.ics`): found by LL2 id, `410 Gone` once a removed item's grace is over, `404`
for anything else. What the page says is decided in `feeds.itempage`; here it is looked
up, linked and answered (ETag, 304)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, render_template, request

from ..base.errors import QueryError
from ..data.snapshot import REMOVAL_GRACE, Entry, Snapshot
from ..feeds import itempage
from ..feeds.itemfeed import item_alarms, render_item
from ..feeds.meaning import Meaning, launch_window, page_path
from ..feeds.output import Rendered
from ..feeds.query import only_parameters
from ..ll2.models import PLURAL, Event, Item, Launch, item_key, utc_stamp
from . import conditional
from .guards import plain
from .pages import admitted, language, public_base, row_for
from .runtime import current_runtime
from .subscribe import SubscribeLinks, links_for
from .views import answer_feed, no_data

items = Blueprint("items", __name__)
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_EVENT_ID = re.compile(r"[0-9]{1,12}")
PAGE_PARAMETERS = ("lang",)


@dataclass(frozen=True, slots=True)
class Follow:
    """A calendar of one of the item's programs or agencies, offered on its page."""

    family: str  # "programs", "agencies"
    name: str
    slug: str
    links: SubscribeLinks
    builder: str  # the builder preset for its events and launches together


@dataclass(frozen=True, slots=True)
class Linked:
    """A launch an event names: linked to its page when this service holds it."""

    name: str
    path: str | None


@items.get("/launches/<item_id>")
@admitted
def launch_page(item_id: str) -> Response:
    return _page(Launch.kind, item_id)


@items.get("/events/<item_id>")
@admitted
def event_page(item_id: str) -> Response:
    return _page(Event.kind, item_id)


@items.get("/launches/<item_id>.ics")
def launch_calendar(item_id: str) -> Response:
    return _calendar(Launch.kind, item_id)


@items.get("/events/<item_id>.ics")
def event_calendar(item_id: str) -> Response:
    return _calendar(Event.kind, item_id)


def key_of(kind: str, raw: str) -> str | None:
    """The snapshot key an id in a URL names (a launch's UUID in any case, an event's
    number); None when it is not an id of that kind."""
    if kind == Launch.kind:
        return item_key(kind, raw.lower()) if _UUID.fullmatch(raw) else None
    return item_key(kind, int(raw)) if _EVENT_ID.fullmatch(raw) else None


def find(snapshot: Snapshot, kind: str, raw: str) -> Entry | Response:
    """The entry the URL names, or the answer when there is none: 410 for an item pruned
    after its removal, 404 otherwise (the id is never echoed)."""
    key = key_of(kind, raw)
    entry = snapshot.entries.get(key) if key else None
    if entry is not None:
        return entry
    if key is not None and key in snapshot.retired:
        return plain(410, f"this {kind} was removed from Launch Library 2 and is gone from here")
    return plain(404, f"no {kind} with this id is known here")


def _page(kind: str, raw: str) -> Response:
    snapshot = current_runtime().store.snapshot
    if not snapshot.entries:  # nothing is known yet: not "no such item"
        return no_data()
    found = find(snapshot, kind, raw)
    if isinstance(found, Response):
        return found
    try:
        lang = _page_language()
    except QueryError as exc:
        return plain(400, str(exc))
    html = render_template("item.html", **page_context(snapshot, found, public_base()), lang=lang)
    return _conditional_page(html)


def page_context(snapshot: Snapshot, entry: Entry, base: str) -> dict[str, Any]:
    """Everything `item.html` shows of `entry`, with absolute links from `base`."""
    item = entry.item
    meaning = Meaning.of_entry(entry)
    path = page_path(item)
    page_url = f"{base}{path}"
    calendar_url = f"{page_url}.ics"
    launch = item if isinstance(item, Launch) else None
    return {
        "entry": entry,
        "item": item,
        "launch": launch,
        "event": item if isinstance(item, Event) else None,
        "meaning": meaning,
        "row": row_for(entry),
        "net_iso": utc_stamp(item.start),
        "window": launch_window(launch) if launch else None,
        "share": itempage.share(entry, page_url),
        "ld_json": itempage.script_json(itempage.json_ld(entry, page_url)),
        "status_words": itempage.status_words(entry),
        "calendar_url": calendar_url,
        "changes": item_changes(base, item),
        "links": links_for(calendar_url, meaning.name),
        "google": itempage.google_template(entry, page_url),
        "webcasts": itempage.webcasts(item.videos),
        "map_url": itempage.map_link(launch.pad if launch else None),
        "moved": itempage.moved_count(entry.moves) if entry.moves else None,
        "moves": [itempage.move_words(m) for m in entry.moves],
        "gone_after": entry.removed_at + REMOVAL_GRACE if entry.removed_at else None,
        "follows": follows(snapshot, item, base),
        "linked": linked_launches(snapshot, item),
        "description": item.mission_description if isinstance(item, Launch) else item.description,
        "ll2_url": f"https://ll.thespacedevs.com/2.3.0/{PLURAL[item.kind]}/{item.id}/",
    }


def item_changes(base: str, item: Item) -> dict[str, str]:
    """The changes feeds of this one item (the `id` filter of every feed)."""
    query = f"id={item.id}&include={PLURAL[item.kind]}"
    return {fmt: f"{base}/changes.{fmt}?{query}" for fmt in ("atom", "json")}


def follows(snapshot: Snapshot, item: Item, base: str) -> list[Follow]:
    """A calendar for each program and agency (a launch's provider) the item names, with
    the same subscribe links as the directories, and the builder preset for both kinds."""
    catalog = snapshot.catalog
    found = []
    for family, param, kind, named in (
        ("programs", "program", catalog.programs, item.programs),
        ("agencies", "agency", catalog.agencies, item.agencies),
    ):
        for thing in named:
            slug = kind.slugs.get(thing.id)
            if slug is None:
                continue
            # A launch page offers its launches too; an event page the events, as the
            # directories do.
            url = f"{base}/{family}/{slug}.ics"
            if isinstance(item, Launch):
                url += "?include=events,launches"
            noun = "events and launches" if isinstance(item, Launch) else "events"
            links = links_for(url, f"Spaceflight {noun} — {thing.name}")
            builder = f"/?{param}={slug}&include=events,launches"
            found.append(Follow(family, thing.name, slug, links, builder))
    return found


def linked_launches(snapshot: Snapshot, item: Item) -> list[Linked]:
    """The launches an event names, linked to their pages when held here."""
    if not isinstance(item, Event):
        return []
    found = []
    for ref in item.launches:
        held = snapshot.entries.get(item_key(Launch.kind, ref.id.lower()))
        found.append(Linked(ref.name, page_path(held.item) if held else None))
    return found


def _page_language() -> str:
    """`lang=` (as the widget takes it); tracking parameters ignored, any other a 400."""
    only_parameters(request.args.items(multi=True), PAGE_PARAMETERS, "an item's page")
    return language(request.args)


def _conditional_page(html: str) -> Response:
    """200 with a strong ETag of the body (it holds no "now": the same bytes while the data
    is unchanged), 304 when the client has them, 412 when If-Match fails."""
    body = html.encode()
    etag = hashlib.sha256(body).hexdigest()[:32]
    decided = conditional.evaluate(request.environ, etag, None)
    if decided == conditional.PRECONDITION_FAILED:
        return plain(412, "precondition failed")
    response = Response(body, mimetype="text/html")
    response.set_etag(etag)
    response.make_conditional({"REQUEST_METHOD": request.method})
    if decided == conditional.NOT_MODIFIED:
        response.status_code = 304
    return response


def _calendar(kind: str, raw: str) -> Response:
    """The one-item calendar, with the feeds' HTTP (ETag, 304, gzip, Last-Modified, CORS),
    their VEVENT cache, and their admission for a render the caches cannot answer."""
    runtime = current_runtime()
    snapshot = runtime.store.snapshot
    if not snapshot.entries:
        return no_data()
    found = find(snapshot, kind, raw)
    if isinstance(found, Response):
        return found
    entry = found
    try:
        alarms = item_alarms(request.args.items(multi=True), snapshot.catalog)
    except QueryError as exc:
        return plain(400, str(exc))

    def make(day: datetime) -> Rendered:  # no window: the day changes nothing in it
        return render_item(snapshot, entry, alarms, runtime.vevents.get)

    return answer_feed("ics", snapshot, ("item", entry.item.key, alarms), make)
