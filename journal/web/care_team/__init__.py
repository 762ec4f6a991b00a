"""Agreeing to (or declining) a clinician proposed for a care team."""

from journal.web.care_team.views import bp

__all__ = ["bp"]
