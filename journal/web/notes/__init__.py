"""Psychotherapy notes: a clinician's own notes per session, apart from the journal."""

from journal.web.notes.views import bp

__all__ = ["bp"]
