"""Get help now: the local emergency number and crisis lines, for everyone, signed in or not."""

from journal.web.help.views import bp

__all__ = ["bp"]
