"""Questionnaires: assigning, answering, trends and safety flags."""

from journal.web.questionnaires.views import bp

__all__ = ["bp"]
