"""Writing, reading, editing journal entries and their version history."""

from journal.web.entries.views import bp

__all__ = ["bp"]
