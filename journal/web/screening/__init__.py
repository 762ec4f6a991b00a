"""The screening review before a course: care-team clinicians only."""

from journal.web.screening.views import bp

__all__ = ["bp"]
