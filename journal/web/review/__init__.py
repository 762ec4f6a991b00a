"""Clinicians marking entries, or a whole session's entries, as reviewed."""

from journal.web.review.views import bp

__all__ = ["bp"]
