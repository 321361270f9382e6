"""icalfeed: iCalendar feeds of spaceflight events from Launch Library 2."""

from __future__ import annotations

__version__ = "0.1.0"

from .web.app import create_app

__all__ = ["__version__", "create_app"]
