"""A patient's reminders: which ones, and the hours not to be disturbed."""

from journal.web.reminders.views import bp

__all__ = ["bp"]
