"""Subscribe links for a feed URL: webcal for Apple, Google's cid link, Outlook's addfromweb.

Pure string work, so the builder page, the directories and tests agree on one format.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

GOOGLE = "https://calendar.google.com/calendar/r"
OUTLOOK_COM = "https://outlook.live.com/calendar/0/addfromweb"
OUTLOOK_365 = "https://outlook.office.com/calendar/0/addfromweb"


@dataclass(frozen=True, slots=True)
class SubscribeLinks:
    https: str
    webcal: str
    google: str
    outlook: str
    office365: str


def links_for(feed_url: str, name: str) -> SubscribeLinks:
    """Every way to subscribe to `feed_url` (an http(s) URL), named `name` where asked."""
    parts = urlsplit(feed_url)
    webcal = urlunsplit(("webcal", parts.netloc, parts.path, parts.query, ""))
    return SubscribeLinks(
        https=feed_url,
        webcal=webcal,
        google=f"{GOOGLE}?{urlencode({'cid': webcal}, quote_via=quote)}",
        outlook=f"{OUTLOOK_COM}?{urlencode({'url': feed_url, 'name': name}, quote_via=quote)}",
        office365=f"{OUTLOOK_365}?{urlencode({'url': feed_url, 'name': name}, quote_via=quote)}",
    )


def embed_snippet(widget_url: str, title: str) -> str:
    """The <iframe> a website pastes to show the widget (text; escaped where shown)."""
    return (
        f'<iframe src="{escape(widget_url)}" title="{escape(title)}" width="100%" height="640" '
        'style="border:0;max-width:100%" loading="lazy"></iframe>'
    )
