"""Guided prompts: the clinic's library and the prompts assigned for a session."""

from journal.web.prompts.views import bp

__all__ = ["bp"]
