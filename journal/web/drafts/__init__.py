"""Autosave: the entry form's drafts, kept encrypted on the server."""

from journal.web.drafts.views import bp

__all__ = ["bp"]
