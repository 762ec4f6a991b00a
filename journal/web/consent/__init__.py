"""The consent record of a course: entered by care-team clinicians, read by the patient too."""

from journal.web.consent.views import bp

__all__ = ["bp"]
