"""WSGI entry point: ``waitress-serve wsgi:app`` (or any WSGI server)."""

from icalfeed import create_app

app = create_app()
