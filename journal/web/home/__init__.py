"""Each role's home page."""

from journal.web.home.views import bp

__all__ = ["bp"]
