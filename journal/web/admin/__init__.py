"""Accounts and care teams. Admins manage who sees what; they read no journal content."""

from journal.web.admin.views import bp

__all__ = ["bp"]
