"""The safety plan: the patient and the care team's clinicians, together."""

from journal.web.safety_plan.views import bp

__all__ = ["bp"]
