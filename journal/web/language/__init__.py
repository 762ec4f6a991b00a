"""Each person's language for the journal's pages: a setting every role has."""

from journal.web.language.views import bp

__all__ = ["bp"]
