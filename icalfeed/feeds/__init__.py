"""The feeds: queries, selection, what an item means, and its iCalendar and JSON forms, with
the rendered-feed caches.
"""
