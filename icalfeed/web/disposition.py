"""The Content-Disposition of a feed download, safe whatever the names in it.

RFC 6266 §4.3: a plain ASCII ``filename=`` for old clients and an RFC 8187 (was 5987)
``filename*=UTF-8''…`` with the readable name, percent-encoded, which clients that know it
prefer. Nothing of the input can close the quoted string, add a parameter, end the header
line or change the file's type: both names are cleaned and end in ``.ics``.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

SUFFIX = ".ics"
FALLBACK = "calendar"
# Long enough for a calendar's name, short enough for every file system (255 bytes).
MAX_STEM_CHARS = 100
_NOT_ASCII_NAME = re.compile(r"[^A-Za-z0-9_-]+")
# Characters Windows, macOS or Linux refuse in a file name, or that read as a path.
_NOT_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|]+')
# RFC 8187 attr-char, minus nothing: what may stay unencoded in an ext-value.
_ATTR_CHARS = "!#$&+-.^_`|~"


def content_disposition(filename: str, readable: str = "") -> str:
    """``inline; filename="<ascii>.ics"; filename*=UTF-8''<readable>.ics``."""
    ascii_name = ascii_stem(filename.removesuffix(SUFFIX)) + SUFFIX
    header = f'inline; filename="{ascii_name}"'
    readable_name = readable_stem(readable) + SUFFIX if readable.strip() else ""
    if readable_name and readable_name != ascii_name:
        header += f"; filename*=UTF-8''{quote(readable_name, safe=_ATTR_CHARS)}"
    return header


def ascii_stem(text: str) -> str:
    """Letters, digits, '-' and '_' only, never empty."""
    stem = _NOT_ASCII_NAME.sub("-", text).strip("-_")[:MAX_STEM_CHARS].strip("-_")
    return stem or FALLBACK


def readable_stem(text: str) -> str:
    """The name as people read it, with nothing a file system or a reader could misread:
    no control or bidi-format characters (U+202E can make 'lmth.ics' look like
    'sci.html'), no path or wildcard characters, no leading dots, white space folded."""
    kept = "".join(
        " " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c
        for c in text
        if unicodedata.category(c) not in ("Cf", "Cs", "Co", "Cn")
    )
    kept = " ".join(_NOT_IN_FILE_NAMES.sub(" ", kept).split())
    stem = kept[:MAX_STEM_CHARS].strip(" .")
    return stem or FALLBACK
