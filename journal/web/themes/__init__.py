"""Themes: tagging entries, and every entry with one theme across a course."""

from journal.web.themes.views import bp

__all__ = ["bp"]
