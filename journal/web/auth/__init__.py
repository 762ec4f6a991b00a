"""Sign-in, sign-out and password change."""

from journal.web.auth.views import bp

__all__ = ["bp"]
