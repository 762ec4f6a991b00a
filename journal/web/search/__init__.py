"""Searching the entries a person may read."""

from journal.web.search.views import bp

__all__ = ["bp"]
