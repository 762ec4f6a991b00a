"""Choosing a password through a one-time link, and asking for one."""

from journal.web.password_links.views import bp

__all__ = ["bp"]
