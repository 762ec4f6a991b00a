"""The dosing-session record: care-team clinicians only."""

from journal.web.session_record.views import bp

__all__ = ["bp"]
