"""Intentions followed to outcomes across a course."""

from journal.web.intentions.views import bp

__all__ = ["bp"]
