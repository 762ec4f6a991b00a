"""The patient's own access log: who opened or changed their journal."""

from journal.web.access_log.views import bp

__all__ = ["bp"]
