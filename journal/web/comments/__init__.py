"""Comments on entries and replies to them."""

from journal.web.comments.views import bp

__all__ = ["bp"]
