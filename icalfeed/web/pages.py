"""HTML pages: the feed builder, the directories of per-program/agency/type feeds, and the
embeddable widget.  Views stay thin; what they show is computed by small pure helpers."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, render_template, request
from werkzeug.datastructures import MultiDict

from ..base.errors import QueryError, shown
from ..data.catalog import Catalog, Kind
from ..data.snapshot import Entry, Snapshot
from ..feeds.asof import KINDS, moment, sample_note, sample_times
from ..feeds.changelog import FeedLinks, one_item
from ..feeds.meaning import Meaning, page_path
from ..feeds.query import EVENTS_ONLY, EVERYTHING, LAUNCHES_ONLY, FeedQuery
from ..feeds.select import feed_day, select
from ..feeds.titles import calendar_meta
from ..ll2.models import PLURAL, Event, Launch, utc_stamp
from ..serving.admission import Refused
from ..serving.observe import mark
from .choices import builder_groups, choices, named_by_launches
from .guards import refused
from .runtime import current_runtime
from .subscribe import embed_snippet, links_for

pages = Blueprint("pages", __name__)
WIDGET_ONLY = ("theme", "view", "lang")
# A BCP 47 language tag as browsers take it ("de", "ja", "pt-BR", "zh-Hant-TW"); the page's
# scripts format dates with Intl in it (else in the visitor's browser language).
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,4}")
# Offered in the builder for the widget; any other valid tag works in the URL too.
WIDGET_LANGUAGES = (
    ("en", "English"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("fr", "Français"),
    ("it", "Italiano"),
    ("ja", "日本語"),
    ("pt-BR", "Português (Brasil)"),
    ("ru", "Русский"),
    ("zh-CN", "简体中文"),
)
THEMES = ("auto", "light", "dark")
PREVIEW_SIZE = 8
AGENDA_SIZE = 60
DIRECTORIES = {
    "programs": ("Programs", "program", "programs"),
    "agencies": ("Agencies", "agency", "agencies"),
    "types": ("Event types", "type", "types"),
}


@dataclass(frozen=True, slots=True)
class Row:
    """An event or launch as a page shows it: honest about how well its date is known."""

    uid: str
    title: str
    start_iso: str  # UTC, for <time datetime>
    utc_text: str
    all_day: bool
    vague: bool
    cancelled: bool
    type_name: str | None
    location: str | None
    webcast: str | None
    moved: str | None = None  # its earlier dates in words, when it moved
    precision: str = "unknown"  # LL2's precision name, lower case (the scripts phrase it)
    page: str = ""  # the path of its own page


def admitted(view: Callable[..., Any]) -> Callable[..., Any]:
    """A page is built from the whole snapshot on every request: it is work the caches do
    not answer, admitted like a new feed query (429/503 with Retry-After when not)."""

    @functools.wraps(view)
    def gated(*args: Any, **kwargs: Any) -> Any:
        runtime = current_runtime()
        mark(request.environ, "rendered")
        try:
            return runtime.admission.run(
                runtime.client_key(request.environ),
                lambda: runtime.timed("html", lambda: view(*args, **kwargs)),
            )
        except Refused as refusal:
            mark(request.environ, "refused")
            return refused(refusal)

    return gated


@pages.get("/")
@admitted
def builder() -> tuple[str, int]:
    snapshot = current_runtime().store.snapshot
    catalog = snapshot.catalog
    error = None
    lang = ""
    try:
        query = FeedQuery.from_args(_feed_args(), catalog)
        lang = language(request.args)
    except QueryError as exc:
        error, query = str(exc), FeedQuery()
    if Launch.kind not in query.include:
        # The form hides rockets and statuses without launches; kept, they would silently
        # empty an events-only feed.
        query = replace(query, rockets=frozenset(), statuses=frozenset())
    today = feed_day(current_runtime().store.clock())
    base = public_base()
    query_string = query.query_string(catalog)
    feed_url = feed_url_for(base, query, catalog, "ics")
    widget_url = _url(base, "/widget", "&".join(filter(None, [query_string, _lang_param(lang)])))
    meta = calendar_meta(query, catalog)
    upcoming = upcoming_entries(snapshot, query, today, PREVIEW_SIZE)
    html = render_template(
        "builder.html",
        groups=builder_groups(snapshot, query, today),
        query=query,
        location=request.args.get("location", ""),
        error=error,
        feed_url=feed_url,
        changes=changes_links(query, snapshot),
        links=links_for(feed_url, meta.name),
        calendar_name=meta.name,
        embed=embed_snippet(widget_url, meta.name),
        widget_url=widget_url,
        preview=[row_for(e) for e in upcoming],
        base=base,
        source=snapshot.source,
        offline=current_runtime().settings.offline,
        events=snapshot.count(Event.kind),
        launches=snapshot.count(Launch.kind),
        include=query.include,
        lang=lang,
        languages=WIDGET_LANGUAGES,
    )
    return html, 400 if error else 200


@pages.get("/<any(programs, agencies, types):kind>")
@admitted
def directory(kind: str) -> str:
    snapshot = current_runtime().store.snapshot
    title, param, path = DIRECTORIES[kind]
    today = feed_day(current_runtime().store.clock())
    base = public_base()
    family = _family(snapshot.catalog, param)
    launching = named_by_launches(snapshot, param, family)
    rows = []
    for choice in choices(family, snapshot, param, today, frozenset()):
        url = f"{base}/{path}/{quote(choice.slug, safe='')}.ics"
        links = links_for(url, f"Spaceflight events — {choice.name}")
        # Where launches name it too, the builder preset for one calendar of both.
        both = "/?" + urlencode({param: choice.slug, "include": "events,launches"}, safe=",")
        rows.append((choice, url, links, both if choice.slug in launching else None))
    return render_template("directory.html", title=title, kind=kind, rows=rows)


@pages.get("/widget")
@admitted
def widget() -> Response:
    snapshot = current_runtime().store.snapshot
    theme = request.args.get("theme", "auto").lower()
    view = request.args.get("view", "agenda").lower()
    error, lang = None, ""
    try:
        query = FeedQuery.from_args(_feed_args(), snapshot.catalog)
        lang = language(request.args)
        if theme not in THEMES:
            raise QueryError(f"theme must be one of {', '.join(THEMES)}, got '{shown(theme)}'")
        if view not in ("agenda", "month"):
            raise QueryError(f"view must be agenda or month, got '{shown(view)}'")
    except QueryError as exc:
        error, query, theme, view, lang = str(exc), FeedQuery(), "auto", "agenda", ""
    today = feed_day(current_runtime().store.clock())
    entries = upcoming_entries(snapshot, query, today, AGENDA_SIZE) if error is None else []
    query_string = query.query_string(snapshot.catalog)
    html = render_template(
        "widget.html",
        agenda_href=_widget_href(query_string, theme, "agenda", lang),
        month_href=_widget_href(query_string, theme, "month", lang),
        lang=lang,
        rows=[row_for(e) for e in entries],
        theme=theme,
        view=view,
        error=error,
        json_url=feed_url_for(public_base(), query, snapshot.catalog, "json"),
        feed_url=feed_url_for(public_base(), query, snapshot.catalog, "ics"),
        name=calendar_meta(query, snapshot.catalog).name,
        new_tab=True,  # inside someone's iframe: an item's page opens beside it
    )
    response = Response(html, status=400 if error else 200, mimetype="text/html")
    response.headers["Content-Security-Policy"] = page_policy(frame_ancestors="*")
    return response


@pages.after_app_request
def security_headers(response: Response) -> Response:
    """Headers every response gets; pages also get a strict CSP and no framing."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", page_policy("'none'"))
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if "frame-ancestors *" not in response.headers["Content-Security-Policy"]:
            response.headers.setdefault("X-Frame-Options", "DENY")
        if not current_runtime().settings.public_url:
            # Links on the page follow this request's Host: no shared cache may hand them to
            # a visitor of another host name.
            response.headers["Cache-Control"] = "no-store"
            response.vary.add("Host")
    return response


def page_policy(frame_ancestors: str) -> str:
    """No inline script or style; images from LL2's hosts over https; framing as given."""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
        f"connect-src 'self'; base-uri 'none'; form-action 'self'; object-src 'none'; "
        f"frame-ancestors {frame_ancestors}"
    )


def public_base() -> str:
    """Where subscribers reach this service: ICALFEED_PUBLIC_URL, else this request's host."""
    configured = current_runtime().settings.public_url
    return (configured or request.url_root).rstrip("/")


def upcoming_entries(
    snapshot: Snapshot, query: FeedQuery, today: datetime, size: int
) -> list[Entry]:
    """The next events (and launches) of the selection, from the start of today (of the
    day each kind was captured, for the packaged sample)."""
    selection = select(snapshot, query, today, 100_000)
    days = {kind: feed_day(moment(snapshot, kind, today)) for kind in KINDS}
    return [e for e in selection.entries if e.item.start >= days.get(e.kind, today)][:size]


@pages.app_context_processor
def sample_context() -> dict[str, Any]:
    """What every page says while it shows the packaged sample: the banner, and the moment
    each kind is shown as of for the scripts (`data-as-of-*`); nothing for live data."""
    snapshot = current_runtime().store.snapshot
    times = sample_times(snapshot)
    return {
        "sample_banner": sample_note(snapshot),
        "as_of": {k: utc_stamp(at) for k, at in times.items()},
    }


def feed_url_for(base: str, query: FeedQuery, catalog: Catalog, fmt: str) -> str:
    """The feed URL of a selection: `/events`, `/launches` or `/feed` (both) by what it
    includes, so the path says it and the query string need not."""
    stem = {EVENTS_ONLY: "/events", LAUNCHES_ONLY: "/launches"}.get(query.include, "/feed")
    rest = replace(query, include=EVENTS_ONLY).query_string(catalog)
    return _url(base, f"{stem}.{fmt}", rest)


def changes_links(query: FeedQuery, snapshot: Snapshot) -> FeedLinks:
    """The changes feeds of a selection and what they belong to (the builder with it and
    its calendar; for one item named by its id, the item's page and calendar): both kinds
    unless the selection narrows them (then `include=` says which), reminders left out."""
    catalog = snapshot.catalog
    params = [(k, v) for k, v in query.to_params(catalog) if k not in ("include", "alarm")]
    if query.include != EVERYTHING:
        params.append(("include", ",".join(PLURAL[kind] for kind in sorted(query.include))))
    query_string = urlencode(params, safe=",:")
    base = public_base()
    home = _url(base, "/", query.query_string(catalog))
    calendar = feed_url_for(base, query, catalog, "ics")
    single = one_item(snapshot, query)
    if single is not None:
        home = base + page_path(single.item)
        calendar = f"{home}.ics"
    return FeedLinks(
        base=base,
        atom=_url(base, "/changes.atom", query_string),
        json=_url(base, "/changes.json", query_string),
        home=home,
        calendar=calendar,
    )


def row_for(entry: Entry) -> Row:
    item = entry.item
    meaning = Meaning.of_entry(entry)
    precision = item.precision
    start = item.start.astimezone(UTC)
    type_name: str | None
    if isinstance(item, Launch):
        provider = item.provider_name
        type_name = f"Launch · {provider}" if provider else "Launch"
    else:
        type_name = item.type.name if item.type else None
    if precision.is_timed:
        utc_text = f"{start:%a %-d %b %Y, %H:%M} UTC"
    elif precision.is_day:
        utc_text = f"{start:%a %-d %b %Y}"
    else:
        utc_text = meaning.net or ""
    return Row(
        uid=meaning.uid.removesuffix("@icalfeed"),
        title=meaning.plain_title,
        start_iso=utc_stamp(start),
        utc_text=utc_text,
        all_day=meaning.all_day,
        vague=precision.is_vague,
        cancelled=meaning.cancelled,
        type_name=type_name,
        location=meaning.location,
        webcast=meaning.webcast,
        moved=meaning.moved,
        precision=precision.name.lower(),
        page=page_path(item),
    )


def _url(base: str, path: str, query_string: str) -> str:
    return f"{base}{path}?{query_string}" if query_string else f"{base}{path}"


def _widget_href(query_string: str, theme: str, view: str, lang: str = "") -> str:
    """A link to the widget itself with the same selection, theme and language, in another
    view."""
    parts = [query_string] if query_string else []
    if theme != "auto":
        parts.append(f"theme={theme}")
    return "?" + "&".join(filter(None, [*parts, _lang_param(lang), f"view={view}"]))


def _feed_args() -> MultiDict[str, str]:
    """The request's parameters that select items (not the page-only ones)."""
    return MultiDict([(k, v) for k, v in request.args.items(multi=True) if k not in WIDGET_ONLY])


def language(args: MultiDict[str, str]) -> str:
    """The `lang=` parameter: a language tag for the page's dates, or "" for the visitor's
    own; QueryError when it is not a language tag."""
    values = args.getlist("lang")
    if len(values) > 1:
        raise QueryError("lang takes one language tag, got several")
    value = values[0].strip() if values else ""
    if value and not LANGUAGE_TAG.fullmatch(value):
        raise QueryError(
            f"lang must be a language tag such as de, ja or pt-BR, got '{shown(value)}'"
        )
    return value


def _lang_param(lang: str) -> str:
    return f"lang={lang}" if lang else ""


def _family(catalog: Catalog, param: str) -> Kind:
    return {"program": catalog.programs, "agency": catalog.agencies, "type": catalog.types}[param]
