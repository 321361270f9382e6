"""The web app: the factory, routes, pages, health, metrics and subscribe links."""
